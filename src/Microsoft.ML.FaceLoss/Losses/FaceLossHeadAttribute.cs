namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Registers a loss head: put it on the head's <see cref="FaceLossOptions"/> class. The name is the
/// one the specification, the golden files and saved models use; <see cref="Order"/> places the head
/// in <see cref="FaceLossHeads.Names"/> (the history of the field: softmax first).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class FaceLossHeadAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The head's name, for example <c>ArcFace</c>.</param>
    public FaceLossHeadAttribute(string name) => Name = name;

    /// <summary>The head's name.</summary>
    public string Name { get; }

    /// <summary>The head's place in <see cref="FaceLossHeads.Names"/>; heads of equal order keep their registration order. Default: 0.</summary>
    public int Order { get; init; }
}
