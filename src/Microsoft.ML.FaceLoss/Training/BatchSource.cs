using System.Collections.Concurrent;
using Microsoft.ML.Data;

// Batches are prepared without allocating: the prefetch thread reuses its buffers and draws
// augmentation from a stack-only generator, so that preparing data adds no garbage-collection work
// beside the training thread. (Collections during TorchSharp calls are safe: see README, "GC-safe TorchSharp".)

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>One training batch: row after row of C x H x W pixels (augmented) and 0-based labels.</summary>
internal sealed record TrainingBatch(float[] Pixels, long[] Labels)
{
    public int Count => Labels.Length;
}

/// <summary>Makes the batches of each epoch, deterministically from the seed and the epoch number.</summary>
internal abstract class BatchSource
{
    protected BatchSource(FaceEmbeddingTrainer.Options options, int channels, int height, int width, int seed)
    {
        Options = options;
        Channels = channels;
        Height = height;
        Width = width;
        Seed = seed;
    }

    protected FaceEmbeddingTrainer.Options Options { get; }

    protected int Channels { get; }

    protected int Height { get; }

    protected int Width { get; }

    protected int Seed { get; }

    protected int InputLength => Channels * Height * Width;

    /// <summary>The number of batches of one epoch (an estimate for streamed data).</summary>
    public abstract int BatchesPerEpoch { get; }

    /// <summary>
    /// The batches of <paramref name="epoch"/> (from 1), leaving out the first <paramref name="skip"/>.
    /// Call it on the training thread (it plans the epoch there); enumerate the result anywhere.
    /// Return each batch with <see cref="Release"/> once its tensors are made.
    /// </summary>
    public abstract IEnumerable<TrainingBatch> Epoch(int epoch, int skip, CancellationToken cancellation);

    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _pixelPool = new();
    private readonly ConcurrentDictionary<int, ConcurrentBag<long[]>> _labelPool = new();

    /// <summary>A batch of <paramref name="rows"/> rows from the pools (buffers of one size are reused).</summary>
    protected TrainingBatch Rent(int rows)
    {
        var pixels = _pixelPool.GetOrAdd(rows, _ => new()).TryTake(out var p) ? p : new float[rows * InputLength];
        var labels = _labelPool.GetOrAdd(rows, _ => new()).TryTake(out var l) ? l : new long[rows];
        return new TrainingBatch(pixels, labels);
    }

    /// <summary>Gives a batch's buffers back for reuse.</summary>
    public void Release(TrainingBatch batch)
    {
        _pixelPool.GetOrAdd(batch.Count, _ => new()).Add(batch.Pixels);
        _labelPool.GetOrAdd(batch.Count, _ => new()).Add(batch.Labels);
    }

    protected static Random EpochRandom(int seed, int epoch) => new(unchecked(seed * 1_000_003 + epoch * 7919));

    /// <summary>Augments row <paramref name="row"/> of a batch from a seed of its own, so results never depend on threads.</summary>
    protected void Augment(float[] pixels, int row, int epoch, int batch)
    {
        if (!Options.HorizontalFlip && Options.RandomCropPadding == 0) return;
        ulong seed = unchecked(((ulong)(uint)Seed << 32) ^ ((ulong)(uint)epoch << 40) ^ ((ulong)(uint)batch << 16) ^ (uint)row);
        var draw = Augmentation.Choose(seed, Options.HorizontalFlip, Options.RandomCropPadding);
        Augmentation.Apply(pixels.AsSpan(row * InputLength, InputLength), Channels, Height, Width, draw);
    }

    /// <summary>Enumerates <paramref name="batches"/> on a background thread, two batches ahead of the consumer.</summary>
    public static IEnumerable<TrainingBatch> Prefetch(IEnumerable<TrainingBatch> batches, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<TrainingBatch>(boundedCapacity: 2);
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in batches) queue.Add(batch, stop.Token);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return batch;
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
        }
        if (producer.IsFaulted) throw producer.Exception!.InnerException!;
    }
}

/// <summary>Batches of rows held in memory, chosen by a <see cref="BatchSampler"/>.</summary>
internal sealed class InMemoryBatchSource : BatchSource
{
    private readonly TrainingData _data;
    private readonly BatchSampler _sampler;

    public InMemoryBatchSource(FaceEmbeddingTrainer.Options options, TrainingData data, int channels, int height, int width, int seed)
        : base(options, channels, height, width, seed)
    {
        _data = data;
        _sampler = BatchSampler.For(options, data.Labels);
        BatchesPerEpoch = _sampler.Epoch(EpochRandom(seed, 1)).Count;
    }

    public override int BatchesPerEpoch { get; }

    public override IEnumerable<TrainingBatch> Epoch(int epoch, int skip, CancellationToken cancellation)
        => Fill(_sampler.Epoch(EpochRandom(Seed, epoch)), epoch, skip, cancellation); // planned here, filled where enumerated

    private IEnumerable<TrainingBatch> Fill(List<int[]> batches, int epoch, int skip, CancellationToken cancellation)
    {
        for (int b = skip; b < batches.Count; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = batches[b];
            var batch = Rent(rows.Length);
            for (int i = 0; i < rows.Length; i++)
            {
                Array.Copy(_data.Pixels, (long)rows[i] * InputLength, batch.Pixels, (long)i * InputLength, InputLength);
                batch.Labels[i] = _data.Labels[rows[i]];
                Augment(batch.Pixels, i, epoch, b);
            }
            yield return batch;
        }
    }
}

/// <summary>
/// Batches read from the data view in every epoch (for data that does not fit in memory): a
/// shuffled cursor where the data view can shuffle, consecutive rows otherwise.
/// </summary>
internal sealed class StreamingBatchSource : BatchSource
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _feature, _label;
    private readonly int[] _labelOfKey;

    // labelOfKey: the 0-based training label of each key value (index key - 1); -1 leaves the row out.
    public StreamingBatchSource(FaceEmbeddingTrainer.Options options, IDataView data, DataViewSchema.Column feature, DataViewSchema.Column label,
        int[] labelOfKey, long rowCount, int channels, int height, int width, int seed)
        : base(options, channels, height, width, seed)
    {
        _data = data;
        _feature = feature;
        _label = label;
        _labelOfKey = labelOfKey;
        BatchesPerEpoch = (int)Math.Max(1, rowCount / Math.Max(2, options.BatchSize));
    }

    public override int BatchesPerEpoch { get; }

    public override IEnumerable<TrainingBatch> Epoch(int epoch, int skip, CancellationToken cancellation)
    {
        using var cursor = _data.GetRowCursor(new[] { _feature, _label }, _data.CanShuffle ? EpochRandom(Seed, epoch) : null);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(_feature);
        var getLabel = cursor.GetGetter<uint>(_label);
        VBuffer<float> buffer = default;
        uint key = 0;
        int size = Options.BatchSize, batch = 0, count = 0;
        var current = Rent(size);
        while (cursor.MoveNext())
        {
            cancellation.ThrowIfCancellationRequested();
            getLabel(ref key);
            if (key == 0)
                throw new InvalidOperationException($"Row {cursor.Position} has a missing label (key value 0) in column '{_label.Name}'.");
            int label = _labelOfKey[key - 1];
            if (label < 0) continue;
            if (batch >= skip)
            {
                getFeatures(ref buffer);
                TrainingData.CopyRow(buffer, current.Pixels.AsSpan(count * InputLength, InputLength), cursor.Position, _feature.Name);
                current.Labels[count] = label;
                Augment(current.Pixels, count, epoch, batch);
            }
            if (++count == size)
            {
                if (batch >= skip)
                {
                    yield return current;
                    current = Rent(size);
                }
                count = 0;
                batch++;
            }
        }
        if (count >= 2 && batch >= skip)
        {
            var last = Rent(count);
            current.Pixels.AsSpan(0, count * InputLength).CopyTo(last.Pixels);
            current.Labels.AsSpan(0, count).CopyTo(last.Labels);
            Release(current);
            yield return last;
        }
    }
}
