using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>An <see cref="IDataView"/> that shows every column of its input and the columns a source adds.</summary>
internal sealed class AppendedColumnsDataView : IDataView
{
    private readonly IDataView _input;
    private readonly IAppendedColumnsSource _source;

    public AppendedColumnsDataView(IDataView input, IAppendedColumnsSource source)
    {
        _input = input;
        _source = source;
        Schema = AppendedSchema(input.Schema, source);
    }

    /// <summary>The input schema followed by the added columns (input columns of the same names become hidden).</summary>
    public static DataViewSchema AppendedSchema(DataViewSchema input, IAppendedColumnsSource source)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        foreach (var column in source.Columns) builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder.ToSchema();
    }

    public bool CanShuffle => _input.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int inputCount = _input.Schema.Count;
        var needed = columnsNeeded.ToList();
        var active = new bool[_source.Columns.Count];
        foreach (var column in needed.Where(c => c.Index >= inputCount)) active[column.Index - inputCount] = true;
        var inputColumns = needed.Where(c => c.Index < inputCount).Select(c => _input.Schema[c.Index]).ToList();
        if (active.Any(a => a) && !_source.ReadsThroughOwnCursor) inputColumns.AddRange(_source.Dependencies(_input.Schema));
        // The main cursor and any side cursor of a batched source get the same shuffle.
        int? seed = rand?.Next();
        var main = _input.GetRowCursor(inputColumns.DistinctBy(c => c.Index), seed is null ? null : new Random(seed.Value));
        var resources = new List<IDisposable>();
        return new AppendedColumnsCursor(main, Schema, active,
            cursor => _source.MakeCursorGetters(_input, cursor, seed, resources), ownsInput: true, new Disposables(resources));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Disposables(List<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
            items.Clear();
        }
    }
}
