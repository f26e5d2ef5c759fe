using System.Reflection;
using TorchSharp;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Every loss head by name: what saved models and golden files refer to. The heads of this library
/// register themselves (their options carry <see cref="FaceLossHeadAttribute"/>); a head of another
/// assembly joins with <see cref="Register{TOptions}"/>, after which models trained with it save and
/// load like any other.
/// </summary>
public static class FaceLossHeads
{
    private static readonly object Lock = new();
    private static readonly Dictionary<string, HeadDescription> ByName = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Dictionary<Type, HeadDescription> ByType = new();

    static FaceLossHeads()
    {
        foreach (var type in typeof(FaceLossHeads).Assembly.GetTypes().Where(t => t.GetCustomAttribute<FaceLossHeadAttribute>() is not null))
            Add(type);
    }

    /// <summary>The names of all heads, as <see cref="FaceLossOptions.HeadName"/> gives them, in the order of the field's history.</summary>
    public static IReadOnlyCollection<string> Names
    {
        get
        {
            lock (Lock) return ByName.Values.OrderBy(h => h.Order).ThenBy(h => h.Registration).Select(h => h.Name).ToList();
        }
    }

    /// <summary>
    /// Registers the head whose options are <typeparamref name="TOptions"/> (marked with
    /// <see cref="FaceLossHeadAttribute"/>, nested in the head class, which has the constructor
    /// <c>(TOptions, int classCount, int embeddingSize, ScalarType, Device?)</c>). Registering a type twice changes nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The type lacks the attribute, a parameterless constructor or a head, or another head has its name.</exception>
    public static void Register<TOptions>() where TOptions : FaceLossOptions, new() => Add(typeof(TOptions));

    /// <summary>Makes the options of the named head with the specification's defaults.</summary>
    /// <param name="headName">A head name such as <c>ArcFace</c> (case-insensitive).</param>
    /// <exception cref="ArgumentException">No head has that name.</exception>
    public static FaceLossOptions CreateOptions(string headName)
    {
        lock (Lock)
        {
            if (ByName.TryGetValue(headName, out var head)) return head.NewOptions();
        }
        throw new ArgumentException($"Unknown loss head '{headName}'. Known heads: {string.Join(", ", Names)}.", nameof(headName));
    }

    /// <summary>
    /// Options of the named head that train well on small data sets (a few thousand images, such as
    /// ORL, a synthetic set or a few hundred LFW people): the defaults of the papers target millions
    /// of images and over-fit or stall here. Each head states its preset
    /// (<see cref="FaceLossOptions.ApplySmallDataPreset"/>): margin heads scale 16 and margins near
    /// 0.2, Circle loss gamma 32, AdaCos a scale of at most 16; the others keep the specification's
    /// defaults. Measured on ORL, Omniglot, LFW and synthetic faces (see the README's results).
    /// </summary>
    public static FaceLossOptions CreateSmallDataOptions(string headName)
    {
        var options = CreateOptions(headName);
        options.ApplySmallDataPreset();
        return options;
    }

    /// <summary>The registered head of an options type.</summary>
    internal static HeadDescription Describe(Type optionsType)
    {
        lock (Lock)
        {
            if (ByType.TryGetValue(optionsType, out var head)) return head;
        }
        throw new InvalidOperationException($"The loss options type {optionsType.FullName} is not a registered head: mark it with [FaceLossHead(\"Name\")] and call FaceLossHeads.Register<{optionsType.Name}>().");
    }

    private static void Add(Type optionsType)
    {
        var attribute = optionsType.GetCustomAttribute<FaceLossHeadAttribute>()
            ?? throw new ArgumentException($"{optionsType.FullName} has no [FaceLossHead] attribute.", nameof(optionsType));
        if (!typeof(FaceLossOptions).IsAssignableFrom(optionsType) || optionsType.IsAbstract || optionsType.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"{optionsType.FullName} must be a concrete FaceLossOptions with a parameterless constructor.", nameof(optionsType));
        lock (Lock)
        {
            if (ByType.ContainsKey(optionsType)) return;
            if (ByName.TryGetValue(attribute.Name, out var other))
                throw new ArgumentException($"The head name '{attribute.Name}' of {optionsType.FullName} is taken by {other.OptionsType.FullName}.", nameof(optionsType));
            var head = new HeadDescription(attribute.Name, attribute.Order, ByType.Count, optionsType);
            ByName.Add(head.Name, head);
            ByType.Add(optionsType, head);
        }
    }
}

/// <summary>A registered head: its name, place, options type and how to make its options and the head.</summary>
internal sealed class HeadDescription(string name, int order, int registration, Type optionsType)
{
    public string Name { get; } = name;

    public int Order { get; } = order;

    public int Registration { get; } = registration;

    public Type OptionsType { get; } = optionsType;

    public FaceLossOptions NewOptions() => (FaceLossOptions)Activator.CreateInstance(OptionsType)!;

    /// <summary>The head class that declares the options, through its constructor (options, classCount, embeddingSize, dtype, device).</summary>
    public FaceLossHead CreateHead(FaceLossOptions options, int classCount, int embeddingSize, torch.ScalarType dtype, torch.Device? device)
    {
        var headType = OptionsType.DeclaringType;
        var constructor = headType?.GetConstructor(new[] { OptionsType, typeof(int), typeof(int), typeof(torch.ScalarType), typeof(torch.Device) });
        if (headType is null || !typeof(FaceLossHead).IsAssignableFrom(headType) || constructor is null)
            throw new InvalidOperationException($"{OptionsType.FullName} must be nested in its head class, which needs a public constructor ({OptionsType.Name}, int classCount, int embeddingSize, ScalarType, Device?); or override CreateHead.");
        try
        {
            return (FaceLossHead)constructor.Invoke(new object?[] { options, classCount, embeddingSize, dtype, device });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
