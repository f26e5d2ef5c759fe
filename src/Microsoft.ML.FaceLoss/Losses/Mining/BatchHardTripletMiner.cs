using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Batch-hard ("In defense of the triplet loss"): per anchor with both, its farthest positive and its nearest negative.</summary>
public sealed class BatchHardTripletMiner : TripletMiner
{
    /// <inheritdoc />
    protected override (Tensor Anchors, Tensor Positives, Tensor Negatives) Mine(Tensor distances, Tensor positive, Tensor negative)
    {
        var hasBoth = positive.any(1).logical_and(negative.any(1));
        var farthestPositive = distances.masked_fill(positive.logical_not(), double.NegativeInfinity).argmax(1);
        var nearestNegative = distances.masked_fill(negative.logical_not(), double.PositiveInfinity).argmin(1);
        var anchors = hasBoth.nonzero().squeeze(1);
        return (anchors, farthestPositive.index_select(0, anchors), nearestNegative.index_select(0, anchors));
    }
}
