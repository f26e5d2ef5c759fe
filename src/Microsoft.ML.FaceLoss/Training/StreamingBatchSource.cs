using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Batches read from the data view in every epoch (for data that does not fit in memory): a
/// shuffled cursor where the data view can shuffle, consecutive rows otherwise.
/// </summary>
internal sealed class StreamingBatchSource : BatchSource
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _feature, _label;
    private readonly int[] _labelOfKey;
    private readonly long _rowCount;

    // labelOfKey: the 0-based training label of each key value (index key - 1); -1 leaves the row out.
    public StreamingBatchSource(DataSettings settings, IDataView data, DataViewSchema.Column feature, DataViewSchema.Column label,
        int[] labelOfKey, long rowCount, int channels, int height, int width, int seed)
        : base(settings, channels, height, width, seed)
    {
        _data = data;
        _feature = feature;
        _label = label;
        _labelOfKey = labelOfKey;
        _rowCount = rowCount;
        BatchesPerEpoch = (int)Math.Max(1, rowCount / Math.Max(2, settings.BatchSize));
    }

    public override int BatchesPerEpoch { get; }

    public override string Describe() => $"{_rowCount} rows streamed, label map SHA-256 {Digest(_labelOfKey)}";

    public override IEnumerable<TrainingBatch> Epoch(int epoch, int skip, Func<int, bool> mine, CancellationToken cancellation)
    {
        using var cursor = _data.GetRowCursor(new[] { _feature, _label }, _data.CanShuffle ? EpochRandom(Seed, epoch) : null);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(_feature);
        var getLabel = cursor.GetGetter<uint>(_label);
        VBuffer<float> buffer = default;
        uint key = 0;
        int size = Settings.BatchSize, batch = 0, count = 0;
        var current = Rent(size);
        while (cursor.MoveNext())
        {
            cancellation.ThrowIfCancellationRequested();
            getLabel(ref key);
            TrainingData.CheckKey(key, _labelOfKey.Length, cursor.Position, _label.Name);
            int label = _labelOfKey[key - 1];
            if (label < 0) continue;
            if (batch >= skip && mine(batch))
            {
                getFeatures(ref buffer);
                TrainingData.CopyRow(buffer, current.Pixels.AsSpan(count * InputLength, InputLength), cursor.Position, _feature.Name);
                current.Labels[count] = label;
                Augment(current.Pixels, count, epoch, batch);
            }
            if (++count == size)
            {
                if (batch >= skip && mine(batch))
                {
                    yield return current with { Index = batch };
                    current = Rent(size);
                }
                else if (batch >= skip)
                {
                    yield return TrainingBatch.Elsewhere(batch);
                }
                count = 0;
                batch++;
            }
        }
        if (count >= 2 && batch >= skip && !mine(batch))
        {
            yield return TrainingBatch.Elsewhere(batch);
        }
        else if (count >= 2 && batch >= skip)
        {
            var last = Rent(count) with { Index = batch };
            current.Pixels.AsSpan(0, count * InputLength).CopyTo(last.Pixels);
            current.Labels.AsSpan(0, count).CopyTo(last.Labels);
            Release(current);
            yield return last;
        }
    }
}
