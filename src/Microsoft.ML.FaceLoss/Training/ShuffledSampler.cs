namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Shuffles all rows each epoch and cuts them into batches; a last batch of one row is dropped (batch normalisation needs two).</summary>
internal sealed class ShuffledSampler : BatchSampler
{
    private readonly int _count;
    private readonly int _batchSize;

    public ShuffledSampler(int count, int batchSize)
    {
        if (count < 2)
            throw new InvalidOperationException($"Training needs at least 2 rows (batch normalisation computes statistics over a batch); the data has {count}.");
        _count = count;
        _batchSize = Math.Min(batchSize, count);
    }

    /// <inheritdoc />
    public override int BatchesPerEpoch => _count / _batchSize + (_count % _batchSize >= 2 ? 1 : 0);

    public override List<int[]> Epoch(Random random)
    {
        // From the same start every epoch: an epoch's batches depend on its generator only, so a resumed run repeats them.
        var order = Enumerable.Range(0, _count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        for (int start = 0; start + 2 <= order.Length; start += _batchSize)
            batches.Add(order.AsSpan(start, Math.Min(_batchSize, order.Length - start)).ToArray());
        return batches;
    }
}
