using System.Globalization;
using System.Reflection;
using TorchSharp;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options of one loss head: which head, its parameters with the defaults of the specification,
/// its small-data preset, and the factory that makes the head. Every head declares a nested
/// <c>Options</c> class derived from this one and marked with <see cref="FaceLossHeadAttribute"/>,
/// which registers the head by name (see <see cref="FaceLossHeads"/>); put an instance into
/// <c>FaceEmbeddingTrainer.Options.Loss</c>.
/// </summary>
/// <remarks>
/// Parameters are properties marked with <see cref="LossParameterAttribute"/> whose setters check the
/// value, so a value outside the head's meaning (a negative scale, a margin at or beyond pi) fails
/// when the options are made, not as NaN many steps into training.
/// </remarks>
public abstract class FaceLossOptions
{
    /// <summary>The name of the head, as the specification and the golden files write it (for example <c>ArcFace</c>): the name its <see cref="FaceLossHeadAttribute"/> gives.</summary>
    public string HeadName => FaceLossHeads.Describe(GetType()).Name;

    /// <summary>
    /// Whether the head needs a learnable class-weight matrix and therefore the number of identities.
    /// Pair and triplet heads without a classifier return false.
    /// </summary>
    public virtual bool HasClassWeights => true;

    /// <summary>
    /// Whether training batches must hold several images of each identity (P identities x K images),
    /// as pair and triplet heads need.
    /// </summary>
    public virtual bool NeedsIdentityBalancedBatches => false;

    /// <summary>
    /// Why the head cannot train with its class weights sharded across ranks
    /// (<c>FaceEmbeddingTrainer.Options.ShardClassWeights</c>), or null where it can. A classifier head
    /// can when the logit of class j depends only on row j of W, the embeddings and each row's label
    /// (the softmax over all classes is then computed across ranks). Default: the reason of pair and
    /// triplet heads, which have no class weights.
    /// </summary>
    public virtual string? ShardingLimitation => "it has no class weights to shard (pair and triplet heads compare the embeddings of one batch)";

    /// <summary>Rows of the class-weight matrix per identity (sub-centres); 1 for every head but sub-center ArcFace.</summary>
    public virtual int RowsPerClass => 1;

    /// <summary>
    /// Makes the head with freshly initialised class weights and initial state: the head class that
    /// declares these options as its nested <c>Options</c>, through its constructor
    /// <c>(Options, int classCount, int embeddingSize, ScalarType, Device?)</c>.
    /// </summary>
    /// <param name="classCount">The number of identities (rows of the class-weight matrix per sub-centre).</param>
    /// <param name="embeddingSize">The length of one embedding.</param>
    /// <param name="dtype">The element type of the head's weights and state; float32 by default.</param>
    /// <param name="device">The device of the head's weights and state; the CPU by default.</param>
    public virtual FaceLossHead CreateHead(int classCount, int embeddingSize,
        torch.ScalarType dtype = torch.ScalarType.Float32, torch.Device? device = null)
        => FaceLossHeads.Describe(GetType()).CreateHead(this, classCount, embeddingSize, dtype, device);

    /// <summary>
    /// Sets the parameters that train well on small data sets (a few thousand images, such as ORL, a
    /// synthetic set or a few hundred LFW people), where the papers' defaults, made for millions of
    /// images, over-fit or stall; see <see cref="FaceLossHeads.CreateSmallDataOptions"/>. The base
    /// keeps the specification's defaults.
    /// </summary>
    public virtual void ApplySmallDataPreset()
    {
    }

    /// <summary>The head's parameters by their snake_case names, in declaration order.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> GetParameters()
        => ParameterProperties(GetType())
            .Select(p => new KeyValuePair<string, object>(p.Attribute.Name, p.Property.GetValue(this)!))
            .ToList();

    /// <summary>Sets a parameter by its snake_case name; numbers are converted to the property's type.</summary>
    /// <exception cref="ArgumentException">The head has no parameter of that name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside the parameter's meaning.</exception>
    public void SetParameter(string name, object value)
    {
        var match = ParameterProperties(GetType()).FirstOrDefault(p => p.Attribute.Name == name);
        if (match.Property is null)
        {
            string known = string.Join(", ", ParameterProperties(GetType()).Select(p => p.Attribute.Name));
            throw new ArgumentException($"The {HeadName} head has no parameter '{name}'. Its parameters are: {(known.Length == 0 ? "none" : known)}.", nameof(name));
        }
        Type type = match.Property.PropertyType;
        object converted = type.IsEnum
            ? (value is string s ? Enum.Parse(type, s, ignoreCase: true) : Enum.ToObject(type, value))
            : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
        try
        {
            match.Property.SetValue(this, converted);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>
    /// Reads options written by <see cref="ToString"/>, such as <c>ArcFace(scale=16, margin=0.2)</c>:
    /// the head by name, each given parameter set, the others at their defaults.
    /// </summary>
    /// <exception cref="FormatException">The text is not <c>Name(name=value, ...)</c>.</exception>
    /// <exception cref="ArgumentException">No head or parameter has that name.</exception>
    public static FaceLossOptions Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        int open = text.IndexOf('(');
        if (open <= 0 || !text.EndsWith(')'))
            throw new FormatException($"'{text}' is not a loss head with its parameters, such as ArcFace(scale=16, margin=0.2).");
        var options = FaceLossHeads.CreateOptions(text[..open]);
        foreach (var pair in text[(open + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0) throw new FormatException($"'{pair}' in '{text}' is not name=value.");
            options.SetParameter(pair[..equals].Trim(), pair[(equals + 1)..].Trim());
        }
        return options;
    }

    /// <summary>Returns a copy of these options, so that later changes to one do not reach the other.</summary>
    public FaceLossOptions Clone() => (FaceLossOptions)MemberwiseClone();

    /// <inheritdoc />
    public override string ToString()
        => HeadName + "(" + string.Join(", ", GetParameters().Select(p => $"{p.Key}={Format(p.Value)}")) + ")";

    private static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    // The parameters in declaration order, those of base classes (such as the scale) first; the
    // shared settings (sample_rate, reduction), not parameters of one loss's formula, last.
    private static IEnumerable<(PropertyInfo Property, LossParameterAttribute Attribute)> ParameterProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<LossParameterAttribute>()!))
            .Where(p => p.Attribute is not null)
            .OrderBy(p => p.Attribute.Shared)
            .ThenBy(p => Depth(p.Property.DeclaringType!))
            .ThenBy(p => p.Property.MetadataToken);

    private static int Depth(Type type)
    {
        int depth = 0;
        for (var t = type; t is not null; t = t.BaseType) depth++;
        return depth;
    }

    /// <summary>Throws when <paramref name="value"/> is not a finite number greater than zero.</summary>
    protected static double Positive(double value, string name)
        => double.IsFinite(value) && value > 0 ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number greater than 0.");

    /// <summary>Throws when <paramref name="value"/> is not a finite number at or above zero.</summary>
    protected static double NonNegative(double value, string name)
        => double.IsFinite(value) && value >= 0 ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number at or above 0.");

    /// <summary>Throws when <paramref name="value"/> is not a finite number in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    protected static double InRange(double value, double low, double high, string name)
        => double.IsFinite(value) && value >= low && value < high ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{low.ToString(CultureInfo.InvariantCulture)}, {high.ToString(CultureInfo.InvariantCulture)}).");
}
