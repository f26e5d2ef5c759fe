using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>
/// Chooses the pairs of a batch to learn from: given the N x N distances and the labels, the indices
/// (int64, no gradient) of each pair's two rows and whether they share a label.
/// </summary>
public abstract class PairMiner
{
    /// <summary>The miner of <paramref name="mining"/>.</summary>
    public static PairMiner For(PairMining mining) => mining switch
    {
        PairMining.All => new AllPairsMiner(),
        PairMining.Hard => new HardPairMiner(),
        _ => throw new ArgumentOutOfRangeException(nameof(mining), mining, "Unknown pair mining."),
    };

    /// <summary>The pairs (first, second, same) of a batch.</summary>
    /// <param name="distances">N x N distances (their gradient is ignored).</param>
    /// <param name="labels">N labels.</param>
    public (Tensor First, Tensor Second, Tensor Same) Mine(Tensor distances, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (first, second, same) = MinePairs(distances.detach(), labels);
        return (first.MoveToOuterDisposeScope(), second.MoveToOuterDisposeScope(), same.MoveToOuterDisposeScope());
    }

    /// <summary>The pairs from the detached distances and the labels.</summary>
    protected abstract (Tensor First, Tensor Second, Tensor Same) MinePairs(Tensor distances, Tensor labels);
}
