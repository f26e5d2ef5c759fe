using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Every valid triplet: each anchor with each of its positives and each of its negatives.</summary>
public sealed class AllTripletsMiner : TripletMiner
{
    /// <inheritdoc />
    protected override (Tensor Anchors, Tensor Positives, Tensor Negatives) Mine(Tensor distances, Tensor positive, Tensor negative)
    {
        var index = positive.unsqueeze(2).logical_and(negative.unsqueeze(1)).nonzero(); // [a, p, n]
        return (index[.., 0], index[.., 1], index[.., 2]);
    }
}
