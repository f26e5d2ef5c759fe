using System.Globalization;
using System.Reflection;
using TorchSharp;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options of one loss head: which head, its parameters with the defaults of the specification,
/// and the factory that makes the head. Every head has a nested <c>Options</c> class derived from this
/// one; put an instance into <c>FaceEmbeddingTrainer.Options.Loss</c>.
/// </summary>
/// <remarks>
/// Parameters are properties whose setters check the value, so a value outside the head's meaning
/// (a negative scale, a margin at or beyond pi) fails when the options are made, not as NaN many
/// steps into training.
/// </remarks>
public abstract class FaceLossOptions
{
    /// <summary>The name of the head, as the specification and the golden files write it (for example <c>ArcFace</c>).</summary>
    public abstract string HeadName { get; }

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

    /// <summary>Rows of the class-weight matrix per identity (sub-centres); 1 for every head but sub-center ArcFace.</summary>
    public virtual int RowsPerClass => 1;

    /// <summary>Makes the head with freshly initialised class weights and initial state.</summary>
    /// <param name="classCount">The number of identities (rows of the class-weight matrix per sub-centre).</param>
    /// <param name="embeddingSize">The length of one embedding.</param>
    /// <param name="dtype">The element type of the head's weights and state; float32 by default.</param>
    /// <param name="device">The device of the head's weights and state; the CPU by default.</param>
    public abstract FaceLossHead CreateHead(int classCount, int embeddingSize,
        torch.ScalarType dtype = torch.ScalarType.Float32, torch.Device? device = null);

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

    private static IEnumerable<(PropertyInfo Property, LossParameterAttribute Attribute)> ParameterProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<LossParameterAttribute>()!))
            .Where(p => p.Attribute is not null)
            .OrderBy(p => Depth(p.Property.DeclaringType!))
            .ThenBy(p => p.Property.MetadataToken);

    // Parameters of the head itself first, then those its base classes share (such as sample_rate).
    private static int Depth(Type type)
    {
        int depth = 0;
        for (var t = type; t is not null; t = t.BaseType) depth++;
        return -depth;
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
