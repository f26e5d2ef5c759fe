using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// The row-to-row mapper of a transformer that adds columns: what <c>PredictionEngine</c> and
/// transformer chains use to map single rows.
/// </summary>
internal sealed class AppendedColumnsRowMapper : IRowToRowMapper
{
    private readonly IAppendedColumnsSource _source;

    public AppendedColumnsRowMapper(DataViewSchema inputSchema, IAppendedColumnsSource source)
    {
        InputSchema = inputSchema;
        _source = source;
        OutputSchema = AppendedColumnsDataView.AppendedSchema(inputSchema, source);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var result = new List<DataViewSchema.Column>();
        foreach (var column in dependingColumns)
        {
            if (column.Index >= InputSchema.Count) result.AddRange(_source.Dependencies(InputSchema));
            else result.Add(InputSchema[column.Index]);
        }
        return result.DistinctBy(c => c.Index).ToList();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        var active = new bool[_source.Columns.Count];
        foreach (var column in activeColumns.Where(c => c.Index >= InputSchema.Count)) active[column.Index - InputSchema.Count] = true;
        return new AppendedColumnsCursor(input, OutputSchema, active, row => _source.MakeRowGetters(row.Input), ownsInput: false);
    }
}
