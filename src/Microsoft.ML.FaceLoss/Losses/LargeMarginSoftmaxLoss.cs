using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// L-Softmax (Liu et al., ICML 2016): logits x W^T with the target |W_y||x| psi(theta), psi =
/// (-1)^k cos(m theta) - 2k, annealed from the plain target by lambda (see
/// <see cref="MultiplicativeMarginOptions"/>). SphereFace's ancestor, without weight normalization.
/// State: <c>iteration</c>.
/// </summary>
public sealed class LargeMarginSoftmaxLoss(LargeMarginSoftmaxLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : MultiplicativeMarginHead<LargeMarginSoftmaxLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="LargeMarginSoftmaxLoss"/>: m = 2 by default.</summary>
    [FaceLossHead("LargeMarginSoftmax", Order = 4)]
    public sealed class Options() : MultiplicativeMarginOptions(2);

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        // Neither side normalized: logits x W^T, the target scaled by |W_y||x|.
        var scale = batch.FeatureNorms * batch.Weight.index_select(0, batch.Labels).norm(1, keepdim: true);
        var target = MarginTarget(batch.TargetCosine, scale); // before the logits, as the graph's order sets the gradients' last bits
        return batch.WithTarget(batch.Linear, target);
    }
}
