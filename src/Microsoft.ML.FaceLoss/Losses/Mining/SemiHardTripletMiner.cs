using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>
/// Semi-hard (FaceNet): for every anchor-positive pair, the nearest negative farther from the anchor
/// than the positive; the farthest negative where none is.
/// </summary>
public sealed class SemiHardTripletMiner : TripletMiner
{
    /// <inheritdoc />
    protected override (Tensor Anchors, Tensor Positives, Tensor Negatives) Mine(Tensor distances, Tensor positive, Tensor negative)
    {
        var pairs = positive.logical_and(negative.any(1, keepdim: true)).nonzero();
        var (a, p) = (pairs[.., 0], pairs[.., 1]);
        var anchorRows = distances.index_select(0, a);               // distances of each pair's anchor
        var dap = anchorRows.gather(1, p.unsqueeze(1));               // d[a, p]
        var negatives = negative.index_select(0, a);
        var farther = negatives.logical_and(anchorRows > dap);
        var nearestFarther = anchorRows.masked_fill(farther.logical_not(), double.PositiveInfinity).argmin(1);
        var farthest = anchorRows.masked_fill(negatives.logical_not(), double.NegativeInfinity).argmax(1);
        return (a, p, where(farther.any(1), nearestFarther, farthest));
    }
}
