using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// The base of this library's transformers: each adds columns computed from the input row (for a
/// data view, possibly in batches of rows), keeps every input column, serves
/// <c>PredictionEngine</c> through its row-to-row mapper, and is saved with the model.
/// </summary>
public abstract class RowMappingTransformer : SavedTransformer, ITransformer
{
    private protected RowMappingTransformer()
    {
    }

    /// <summary>Always true: the added columns of a row depend on that row only.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return AppendedColumnsDataView.AppendedSchema(inputSchema, CreateSource(inputSchema));
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new AppendedColumnsDataView(input, CreateSource(input.Schema));
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new AppendedColumnsRowMapper(inputSchema, CreateSource(inputSchema));
    }

    /// <summary>
    /// Checks <paramref name="inputSchema"/> (an exception names the missing or mistyped column and
    /// the type expected) and makes what computes the added columns.
    /// </summary>
    private protected abstract IAppendedColumnsSource CreateSource(DataViewSchema inputSchema);

    /// <summary>The schema shape after this transformer, for an estimator that learns nothing (see <see cref="StatelessEstimator{T}"/>).</summary>
    internal virtual SchemaShape GetOutputSchemaShape(SchemaShape inputSchema)
        => throw new NotSupportedException($"{GetType().Name} is made by an estimator that computes its output schema itself.");
}
