using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// Computes the values of one added column for the rows of a cursor. <see cref="MakeCursorGetter"/> is called
/// once per cursor; the returned getter reads the cursor's current row.
/// </summary>
internal interface IAppendedColumnSource
{
    /// <summary>The name of the added column.</summary>
    string Name { get; }

    /// <summary>The type of the added column.</summary>
    DataViewType Type { get; }

    /// <summary>The input columns the added column is computed from.</summary>
    IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema);

    /// <summary>
    /// Whether the cursor getter reads its inputs through cursors of its own; when false, the main
    /// cursor activates <see cref="Dependencies"/> for it.
    /// </summary>
    bool ReadsThroughOwnCursor { get; }

    /// <summary>
    /// Makes the getter of the added column for a cursor over <paramref name="input"/>. A source
    /// that computes in batches may open its own cursors over <paramref name="input"/> with
    /// <paramref name="seed"/> (the seed of the main cursor's shuffle, or null), and register them
    /// in <paramref name="resources"/> for disposal.
    /// </summary>
    Delegate MakeCursorGetter(IDataView input, AppendedColumnCursor cursor, int? seed, ICollection<IDisposable> resources);

    /// <summary>Makes the getter of the added column for a single row (used by prediction engines).</summary>
    Delegate MakeRowGetter(DataViewRow input);
}

/// <summary>An <see cref="IDataView"/> that shows every column of its input and one added column.</summary>
internal sealed class AppendedColumnDataView : IDataView
{
    private readonly IDataView _input;
    private readonly IAppendedColumnSource _source;

    public AppendedColumnDataView(IDataView input, IAppendedColumnSource source)
    {
        _input = input;
        _source = source;
        Schema = AppendedSchema(input.Schema, source);
    }

    /// <summary>The input schema with the added column last (an input column of the same name becomes hidden).</summary>
    public static DataViewSchema AppendedSchema(DataViewSchema input, IAppendedColumnSource source)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(source.Name, source.Type);
        return builder.ToSchema();
    }

    public bool CanShuffle => _input.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToList();
        int added = Schema.Count - 1;
        bool addedActive = needed.Any(c => c.Index == added);
        var inputColumns = needed.Where(c => c.Index != added).Select(c => _input.Schema[c.Index]).ToList();
        if (addedActive && !_source.ReadsThroughOwnCursor) inputColumns.AddRange(_source.Dependencies(_input.Schema));
        // Both the main cursor and any side cursor of a batched source get the same shuffle.
        int? seed = rand?.Next();
        var main = _input.GetRowCursor(inputColumns, seed is null ? null : new Random(seed.Value));
        var resources = new List<IDisposable>();
        var disposer = new CompositeDisposable(resources);
        Func<AppendedColumnCursor, Delegate>? make = addedActive
            ? cursor => _source.MakeCursorGetter(_input, cursor, seed, resources)
            : null;
        return new AppendedColumnCursor(main, Schema, make, ownsInput: true, disposer);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class CompositeDisposable : IDisposable
    {
        private readonly List<IDisposable> _items;

        public CompositeDisposable(List<IDisposable> items) => _items = items;

        public void Dispose()
        {
            foreach (var item in _items) item.Dispose();
            _items.Clear();
        }
    }
}
