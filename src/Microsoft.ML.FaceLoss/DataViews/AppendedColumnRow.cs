using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// A row (or cursor) that shows every column of an input row and one column more, computed by a
/// getter. Column indices 0..n-1 are the input's, index n is the added column.
/// </summary>
internal sealed class AppendedColumnCursor : DataViewRowCursor
{
    private readonly DataViewRow _input;
    private readonly DataViewRowCursor? _inputCursor;
    private readonly Func<AppendedColumnCursor, Delegate>? _makeGetter;
    private readonly IDisposable? _ownedResources;
    private readonly bool _ownsInput;
    private Delegate? _getter;
    private bool _disposed;

    /// <param name="input">The input row or cursor.</param>
    /// <param name="schema">The input schema plus the added column, last.</param>
    /// <param name="makeGetter">Makes the added column's getter (a <c>ValueGetter&lt;T&gt;</c>); null when the column is inactive.</param>
    /// <param name="ownsInput">Whether disposing this row disposes the input (true for cursors this library opened).</param>
    /// <param name="ownedResources">Disposed with this row, for example a side cursor.</param>
    public AppendedColumnCursor(DataViewRow input, DataViewSchema schema, Func<AppendedColumnCursor, Delegate>? makeGetter,
        bool ownsInput, IDisposable? ownedResources = null)
    {
        _input = input;
        _inputCursor = input as DataViewRowCursor;
        _ownsInput = ownsInput;
        Schema = schema;
        _makeGetter = makeGetter;
        _ownedResources = ownedResources;
    }

    /// <summary>The input row this row extends.</summary>
    public DataViewRow Input => _input;

    private int AddedIndex => Schema.Count - 1;

    public override DataViewSchema Schema { get; }

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override bool MoveNext()
        => _inputCursor?.MoveNext() ?? throw new InvalidOperationException("This row is not a cursor.");

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column)
        => column.Index == AddedIndex ? _makeGetter is not null : _input.IsColumnActive(_input.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index != AddedIndex)
            return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        if (_makeGetter is null)
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor; request it when the cursor is made.");
        _getter ??= _makeGetter(this);
        return _getter as ValueGetter<TValue>
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
