using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// A row (or cursor) that shows every column of an input row and the columns a source adds.
/// Indices below the input's column count are the input's; the added columns follow.
/// </summary>
internal sealed class AppendedColumnsCursor : DataViewRowCursor
{
    private readonly DataViewRow _input;
    private readonly DataViewRowCursor? _inputCursor;
    private readonly bool[] _active;
    private readonly Func<AppendedColumnsCursor, Func<int, Delegate>> _makeGetters;
    private readonly bool _ownsInput;
    private readonly IDisposable? _ownedResources;
    private readonly Delegate?[] _getters;
    private Func<int, Delegate>? _factory;
    private bool _disposed;

    /// <param name="input">The input row or cursor.</param>
    /// <param name="schema">The input schema followed by the added columns.</param>
    /// <param name="active">Which added columns are active.</param>
    /// <param name="makeGetters">Makes the added columns' getter factory, once, when a first getter is asked for.</param>
    /// <param name="ownsInput">Whether disposing this row disposes the input (true for cursors this library opened).</param>
    /// <param name="ownedResources">Disposed with this row, for example a side cursor.</param>
    public AppendedColumnsCursor(DataViewRow input, DataViewSchema schema, bool[] active,
        Func<AppendedColumnsCursor, Func<int, Delegate>> makeGetters, bool ownsInput, IDisposable? ownedResources = null)
    {
        _input = input;
        _inputCursor = input as DataViewRowCursor;
        Schema = schema;
        _active = active;
        _makeGetters = makeGetters;
        _ownsInput = ownsInput;
        _ownedResources = ownedResources;
        _getters = new Delegate?[active.Length];
    }

    /// <summary>The input row this row extends.</summary>
    public DataViewRow Input => _input;

    private int InputCount => Schema.Count - _active.Length;

    public override DataViewSchema Schema { get; }

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override bool MoveNext()
        => _inputCursor?.MoveNext() ?? throw new InvalidOperationException("This row is not a cursor.");

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column)
        => column.Index >= InputCount ? _active[column.Index - InputCount] : _input.IsColumnActive(_input.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index < InputCount)
            return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        int added = column.Index - InputCount;
        if (!_active[added])
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor; request it when the cursor is made.");
        _factory ??= _makeGetters(this);
        _getters[added] ??= _factory(added);
        return _getters[added] as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' holds values of type {column.Type}; a getter of {typeof(TValue).Name} was requested.");
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (disposing)
        {
            _ownedResources?.Dispose();
            if (_ownsInput) _input.Dispose();
        }
        base.Dispose(disposing);
    }
}
