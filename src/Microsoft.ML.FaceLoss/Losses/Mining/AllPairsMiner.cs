using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Every pair i &lt; j of the batch.</summary>
public sealed class AllPairsMiner : PairMiner
{
    /// <inheritdoc />
    protected override (Tensor First, Tensor Second, Tensor Same) MinePairs(Tensor distances, Tensor labels)
    {
        var upper = triu_indices(labels.shape[0], labels.shape[0], 1, device: labels.device);
        var (first, second) = (upper[0], upper[1]);
        return (first, second, labels.index_select(0, first).eq(labels.index_select(0, second)));
    }
}
