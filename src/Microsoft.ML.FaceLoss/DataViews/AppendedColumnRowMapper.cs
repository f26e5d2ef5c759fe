using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// The row-to-row mapper of a transformer that adds one column: what <c>PredictionEngine</c> and
/// transformer chains use to map single rows.
/// </summary>
internal sealed class AppendedColumnRowMapper : IRowToRowMapper
{
    private readonly IAppendedColumnSource _source;

    public AppendedColumnRowMapper(DataViewSchema inputSchema, IAppendedColumnSource source)
    {
        InputSchema = inputSchema;
        _source = source;
        OutputSchema = AppendedColumnDataView.AppendedSchema(inputSchema, source);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        int added = OutputSchema.Count - 1;
        var result = new List<DataViewSchema.Column>();
        foreach (var column in dependingColumns)
        {
            if (column.Index == added) result.AddRange(_source.Dependencies(InputSchema));
            else result.Add(InputSchema[column.Index]);
        }
        return result.DistinctBy(c => c.Index).ToList();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        int added = OutputSchema.Count - 1;
        bool addedActive = activeColumns.Any(c => c.Index == added);
        return new AppendedColumnCursor(input, OutputSchema, addedActive ? row => _source.MakeRowGetter(row.Input) : null, ownsInput: false);
    }
}
