using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Batches of rows held in memory, chosen by a <see cref="BatchSampler"/>.</summary>
internal sealed class InMemoryBatchSource : BatchSource
{
    private readonly TrainingData _data;
    private readonly BatchSampler _sampler;

    public InMemoryBatchSource(DataSettings settings, FaceLossOptions loss, TrainingData data, int channels, int height, int width, int seed)
        : base(settings, channels, height, width, seed)
    {
        _data = data;
        _sampler = BatchSampler.For(settings, loss, data.Labels);
        BatchesPerEpoch = _sampler.BatchesPerEpoch;
    }

    public override int BatchesPerEpoch { get; }

    public override string Describe() => $"{_data.Count} rows in memory, SHA-256 {Digest(_data.Pixels)} of the pixels and {Digest(_data.Labels)} of the labels";

    public override IEnumerable<TrainingBatch> Epoch(int epoch, int skip, Func<int, bool> mine, CancellationToken cancellation)
        => Fill(_sampler.Epoch(EpochRandom(Seed, epoch)), epoch, skip, mine, cancellation); // planned here, filled where enumerated

    private IEnumerable<TrainingBatch> Fill(List<int[]> batches, int epoch, int skip, Func<int, bool> mine, CancellationToken cancellation)
    {
        for (int b = skip; b < batches.Count; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (!mine(b))
            {
                yield return TrainingBatch.Elsewhere(b);
                continue;
            }
            var rows = batches[b];
            var batch = Rent(rows.Length) with { Index = b };
            RowGather.Copy(_data.Pixels, InputLength, rows, batch.Pixels);
            for (int i = 0; i < rows.Length; i++)
            {
                batch.Labels[i] = _data.Labels[rows[i]];
                Augment(batch.Pixels, i, epoch, b);
            }
            yield return batch;
        }
    }
}
