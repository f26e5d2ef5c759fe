using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Per anchor with both, two pairs: with its farthest positive and with its nearest negative (the batch-hard triplets split).</summary>
public sealed class HardPairMiner : PairMiner
{
    private readonly BatchHardTripletMiner _triplets = new();

    /// <inheritdoc />
    protected override (Tensor First, Tensor Second, Tensor Same) MinePairs(Tensor distances, Tensor labels)
    {
        var (anchors, positives, negatives) = _triplets.Mine(distances, labels);
        long count = anchors.shape[0];
        return (cat(new[] { anchors, anchors }), cat(new[] { positives, negatives }),
            cat(new[] { ones(count, ScalarType.Bool, labels.device), zeros(count, ScalarType.Bool, labels.device) }));
    }
}
