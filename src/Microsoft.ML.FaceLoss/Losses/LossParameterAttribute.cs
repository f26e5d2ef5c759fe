namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Marks a property of a <see cref="FaceLossOptions"/> as a parameter of the head. The name is the
/// snake_case name the specification and the golden files use; it is also the name under which the
/// value is saved with a model.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class LossParameterAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The snake_case name of the parameter, for example <c>easy_margin</c>.</param>
    public LossParameterAttribute(string name) => Name = name;

    /// <summary>The snake_case name of the parameter.</summary>
    public string Name { get; }

    /// <summary>
    /// Whether the parameter is a setting a family of heads shares rather than part of one head's
    /// formula (a classifier's sample rate, a pair loss's reduction): such parameters come last in
    /// <see cref="FaceLossOptions.GetParameters"/> and <see cref="FaceLossOptions.ToString"/>. Default: false.
    /// </summary>
    public bool Shared { get; init; }
}
