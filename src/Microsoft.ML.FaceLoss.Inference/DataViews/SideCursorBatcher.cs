using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// Reads a vector column through a cursor of its own, a batch of rows at a time, in step with a
/// main cursor over the same data, so that a transformer computes one batch per matrix product or
/// forward pass instead of one row at a time. While a batch is computed, the next one is read on a
/// background thread (the rows' upstream work, such as decoding images, overlaps the computation).
/// The data view must return the same rows in the same order to every cursor with the same shuffle
/// seed, as ML.NET's data views do.
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
    private readonly Batch[] _buffers;
    private DataViewRowCursor? _side;
    private ValueGetter<VBuffer<float>>? _getter;
    private VBuffer<float> _buffer;
    private Batch? _current;        // the computed batch whose results the getters serve
    private Task<Batch?>? _next;    // the following batch, being read into the other buffer
    private long _nextStart;        // the first row of that read

    /// <summary>Copies (and checks) one row's vector into the batch buffer.</summary>
    public delegate void CopyRow(in VBuffer<float> source, Span<float> destination, long row);

    private sealed class Batch(float[] rows)
    {
        public float[] Rows { get; } = rows;

        public long Start { get; set; }

        public int Count { get; set; }

        public bool Holds(long position) => position >= Start && position < Start + Count;
    }

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
        _buffers = new[] { new Batch(new float[batchSize * rowLength]), new Batch(new float[batchSize * rowLength]) };
    }

    /// <summary>The main cursor's row within the current batch, computing the batch that holds it when needed.</summary>
    public int RowInBatch()
    {
        long position = _main.Position;
        if (position < 0) throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
        if (_current is null || !_current.Holds(position)) Advance(position);
        return (int)(position - _current!.Start);
    }

    private void Advance(long position)
    {
        Batch? batch = null;
        if (_next is not null)
        {
            var pending = _next;
            _next = null;
            if (position < _nextStart + _batchSize)
            {
                // The read's own exception (a bad row, say), as it was thrown: never an AggregateException.
                batch = pending.ConfigureAwait(false).GetAwaiter().GetResult();
            }
            else
            {
                // The main cursor skipped past every row of that read: its errors concern no row asked for.
                try { pending.Wait(); }
                catch (AggregateException) { }
            }
            if (batch is not null && !batch.Holds(position)) batch = null;
        }
        var buffer = batch ?? (_current == _buffers[0] ? _buffers[1] : _buffers[0]);
        batch ??= Read(position, buffer, mustReach: true)!;
        // Read the following rows into the other buffer while this batch is computed.
        var other = batch == _buffers[0] ? _buffers[1] : _buffers[0];
        long following = batch.Start + batch.Count;
        if (batch.Count == _batchSize)
        {
            _nextStart = following;
            _next = Task.Run(() => Read(following, other, mustReach: false));
        }
        _current = null;
        _computeBatch(batch.Rows, batch.Count);
        _current = batch;
    }

    /// <summary>Reads up to a batch of rows from <paramref name="position"/> on; null where the data ends before it (and <paramref name="mustReach"/> is false).</summary>
    private Batch? Read(long position, Batch batch, bool mustReach)
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
            if (_side.MoveNext()) continue;
            if (!mustReach) return null;
            throw new InvalidOperationException("The input data view returned fewer rows on a second cursor; it must return the same rows in the same order to every cursor.");
        }
        int count = 0;
        do
        {
            _getter!(ref _buffer);
            _copyRow(_buffer, batch.Rows.AsSpan(count * _rowLength, _rowLength), _side.Position);
            count++;
        }
        while (count < _batchSize && _side.MoveNext());
        batch.Start = position;
        batch.Count = count;
        return batch;
    }

    public void Dispose()
    {
        try
        {
            _next?.Wait();
        }
        catch (AggregateException)
        {
            // A row no one asked for failed to read: nothing to report.
        }
        _side?.Dispose();
    }
}
