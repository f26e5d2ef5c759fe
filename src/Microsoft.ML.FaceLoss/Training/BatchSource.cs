using System.Collections.Concurrent;
using Microsoft.ML.Data;

// Batches are prepared without allocating: the prefetch thread reuses its buffers and draws
// augmentation from a stack-only generator, so that preparing data adds no garbage-collection work
// beside the training thread. (Collections during TorchSharp calls are safe: see README, "GC-safe TorchSharp".)

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Makes the batches of each epoch, deterministically from the seed and the epoch number.</summary>
internal abstract class BatchSource
{
    protected BatchSource(DataSettings settings, int channels, int height, int width, int seed)
    {
        Settings = settings;
        Channels = channels;
        Height = height;
        Width = width;
        Seed = seed;
    }

    protected DataSettings Settings { get; }

    protected int Channels { get; }

    protected int Height { get; }

    protected int Width { get; }

    protected int Seed { get; }

    protected int InputLength => Channels * Height * Width;

    /// <summary>The number of batches of one epoch (an estimate for streamed data).</summary>
    public abstract int BatchesPerEpoch { get; }

    /// <summary>What identifies the data (rows and a digest), for checkpoints: a run resumes only on the same data.</summary>
    public abstract string Describe();

    /// <summary>The SHA-256 of the bytes of <paramref name="values"/>, in hexadecimal.</summary>
    protected static string Digest<T>(params T[][] values) where T : unmanaged
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var array in values) sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>
    /// The batches of <paramref name="epoch"/> (from 1), leaving out the first <paramref name="skip"/>;
    /// a batch whose index <paramref name="mine"/> rejects comes as an empty stand-in
    /// (<see cref="TrainingBatch.Elsewhere"/>), its rows not read. Call it on the training thread (it plans
    /// the epoch there); enumerate the result anywhere. Return each batch with <see cref="Release"/> once
    /// its tensors are made.
    /// </summary>
    public abstract IEnumerable<TrainingBatch> Epoch(int epoch, int skip, Func<int, bool> mine, CancellationToken cancellation);

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
        if (batch.IsElsewhere) return;
        _pixelPool.GetOrAdd(batch.Count, _ => new()).Add(batch.Pixels);
        _labelPool.GetOrAdd(batch.Count, _ => new()).Add(batch.Labels);
    }

    protected static Random EpochRandom(int seed, int epoch) => new(unchecked(seed * 1_000_003 + epoch * 7919));

    /// <summary>Augments row <paramref name="row"/> of a batch from a seed of its own, so results never depend on threads.</summary>
    protected void Augment(float[] pixels, int row, int epoch, int batch)
    {
        if (!Settings.HorizontalFlip && Settings.RandomCropPadding == 0) return;
        ulong seed = unchecked(((ulong)(uint)Seed << 32) ^ ((ulong)(uint)epoch << 40) ^ ((ulong)(uint)batch << 16) ^ (uint)row);
        var draw = Augmentation.Choose(seed, Settings.HorizontalFlip, Settings.RandomCropPadding);
        Augmentation.Apply(pixels.AsSpan(row * InputLength, InputLength), Channels, Height, Width, draw);
    }

    /// <summary>
    /// Enumerates <paramref name="batches"/> on a background thread, <paramref name="ahead"/> batches ahead
    /// of the consumer (counting other ranks' empty stand-ins).
    /// </summary>
    public static IEnumerable<TrainingBatch> Prefetch(IEnumerable<TrainingBatch> batches, CancellationToken cancellation, int ahead = 2)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<TrainingBatch>(boundedCapacity: ahead);
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
            catch (AggregateException) { } // a real error is rethrown below, unwrapped
        }
        // The data's own error (a bad row, say), as it was thrown: never an AggregateException.
        if (producer.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } error)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
    }
}
