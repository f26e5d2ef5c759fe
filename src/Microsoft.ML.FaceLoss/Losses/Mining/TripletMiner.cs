using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>
/// Chooses the triplets of a batch to learn from: given the N x N distances and the labels, the
/// indices (int64, no gradient) of anchors, positives and negatives, so that any triplet loss can use them.
/// </summary>
public abstract class TripletMiner
{
    /// <summary>The miner of <paramref name="mining"/>.</summary>
    public static TripletMiner For(TripletMining mining) => mining switch
    {
        TripletMining.All => new AllTripletsMiner(),
        TripletMining.Hard => new BatchHardTripletMiner(),
        TripletMining.SemiHard => new SemiHardTripletMiner(),
        _ => throw new ArgumentOutOfRangeException(nameof(mining), mining, "Unknown triplet mining."),
    };

    /// <summary>The triplets (anchor, positive, negative) of a batch.</summary>
    /// <param name="distances">N x N distances (their gradient is ignored).</param>
    /// <param name="labels">N labels.</param>
    public (Tensor Anchors, Tensor Positives, Tensor Negatives) Mine(Tensor distances, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (a, p, n) = Mine(distances.detach(), PairwiseDistances.PositiveMask(labels), PairwiseDistances.NegativeMask(labels));
        return (a.MoveToOuterDisposeScope(), p.MoveToOuterDisposeScope(), n.MoveToOuterDisposeScope());
    }

    /// <summary>The triplets from the distances and the masks of same-label (other than i = j) and different-label pairs.</summary>
    protected abstract (Tensor Anchors, Tensor Positives, Tensor Negatives) Mine(Tensor distances, Tensor positive, Tensor negative);
}
