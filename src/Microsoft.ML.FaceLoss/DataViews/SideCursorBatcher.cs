using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// Reads a vector column through a cursor of its own, a batch of rows at a time, in step with a
/// main cursor over the same data, so that a transformer computes one batch per matrix product or
/// forward pass instead of one row at a time. The data view must return the same rows in the same
/// order to every cursor with the same shuffle seed, as ML.NET's data views do.
/// </summary>
internal sealed class SideCursorBatcher : IDisposable
{
    private readonly IDataView _input;
    private readonly DataViewSchema.Column _column;
    private readonly DataViewRow _main;
    private readonly int? _seed;
    private readonly int _rowLength;
    private readonly int _batchSize;
    private readonly Action<float[], int> _computeBatch;
    private readonly CopyRow _copyRow;
    private readonly float[] _rows;
    private DataViewRowCursor? _side;
    private ValueGetter<VBuffer<float>>? _getter;
    private VBuffer<float> _buffer;
    private long _batchStart = -1;
    private int _batchCount;

    /// <summary>Copies (and checks) one row's vector into the batch buffer.</summary>
    public delegate void CopyRow(in VBuffer<float> source, Span<float> destination, long row);

    /// <param name="input">The data view the main cursor runs over.</param>
    /// <param name="column">The vector column to read.</param>
    /// <param name="main">The main cursor.</param>
    /// <param name="seed">The shuffle seed of the main cursor, or null.</param>
    /// <param name="rowLength">The values of one row's vector.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="computeBatch">Computes the results of a batch: the rows one after another, and their count.</param>
    /// <param name="copyRow">Copies one row's vector into the batch, refusing bad values.</param>
    public SideCursorBatcher(IDataView input, DataViewSchema.Column column, DataViewRow main, int? seed, int rowLength, int batchSize,
        Action<float[], int> computeBatch, CopyRow copyRow)
    {
        _input = input;
        _column = column;
        _main = main;
        _seed = seed;
        _rowLength = rowLength;
        _batchSize = batchSize;
        _computeBatch = computeBatch;
        _copyRow = copyRow;
        _rows = new float[batchSize * rowLength];
    }

    /// <summary>The main cursor's row within the current batch, computing the batch that holds it when needed.</summary>
    public int RowInBatch()
    {
        long position = _main.Position;
        if (position < 0) throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
        if (position < _batchStart || position >= _batchStart + _batchCount) Fill(position);
        return (int)(position - _batchStart);
    }

    private void Fill(long position)
    {
        if (_side is null)
        {
            _side = _input.GetRowCursor(new[] { _column }, _seed is null ? null : new Random(_seed.Value));
            _getter = _side.GetGetter<VBuffer<float>>(_column);
        }
        if (_side.Position > position)
            throw new InvalidOperationException("A row the cursor has passed was asked for; cursors only move forward.");
        while (_side.Position < position)
        {
            if (!_side.MoveNext())
                throw new InvalidOperationException("The input data view returned fewer rows on a second cursor; it must return the same rows in the same order to every cursor.");
        }
        int count = 0;
        do
        {
            _getter!(ref _buffer);
            _copyRow(_buffer, _rows.AsSpan(count * _rowLength, _rowLength), _side.Position);
            count++;
        }
        while (count < _batchSize && _side.MoveNext());
        _computeBatch(_rows, count);
        _batchStart = position;
        _batchCount = count;
    }

    public void Dispose() => _side?.Dispose();
}
