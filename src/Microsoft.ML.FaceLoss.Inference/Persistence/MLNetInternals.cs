using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// The few ML.NET members outside model files that the public API keeps internal although every
/// estimator needs them in <c>GetOutputSchema</c>: finding a column of a <see cref="SchemaShape"/>
/// and making a new <see cref="SchemaShape.Column"/>.
/// </summary>
internal static class MLNetInternals
{
    /// <summary>A schema-shape column of a known-size vector of <paramref name="itemType"/>.</summary>
    public static SchemaShape.Column VectorColumn(string name, DataViewType itemType)
        => new(name, SchemaShape.Column.VectorKind.Vector, itemType, isKey: false);

    /// <summary>A schema-shape column of a vector of <paramref name="itemType"/> whose length varies from row to row.</summary>
    public static SchemaShape.Column VariableVectorColumn(string name, DataViewType itemType)
        => new(name, SchemaShape.Column.VectorKind.VariableVector, itemType, isKey: false);

    /// <summary>A schema-shape column of a scalar of <paramref name="type"/>.</summary>
    public static SchemaShape.Column ScalarColumn(string name, DataViewType type)
        => new(name, SchemaShape.Column.VectorKind.Scalar, type, isKey: false);

    /// <summary><paramref name="input"/> with <paramref name="column"/> added (replacing a column of the same name).</summary>
    public static SchemaShape With(SchemaShape input, SchemaShape.Column column)
        => new(input.Where(c => c.Name != column.Name).Append(column));

    /// <summary>Finds the column of a schema shape by name.</summary>
    public static bool TryFindColumn(SchemaShape shape, string name, out SchemaShape.Column column)
        => shape.TryFindColumn(name, out column);

    /// <summary>How ML.NET writes a schema-shape column's type in messages, for example <c>Vector&lt;Single&gt;</c>.</summary>
    public static string TypeString(SchemaShape.Column column) => column.GetTypeString();

    /// <summary>The schema shape of a schema.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema) => SchemaShape.Create(schema);
}
