using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// SphereFace / A-Softmax (Liu et al., CVPR 2017): normalized class weights, unnormalized features,
/// logits |x| cos_j, and the target |x| psi(theta) with psi = (-1)^k cos(m theta) - 2k, annealed
/// from the plain target by lambda (see <see cref="MultiplicativeMarginOptions"/>). State:
/// <c>iteration</c>, the optimizer steps taken.
/// </summary>
public sealed class SphereFaceLoss(SphereFaceLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : MultiplicativeMarginHead<SphereFaceLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="SphereFaceLoss"/>: m = 4 by default.</summary>
    [FaceLossHead("SphereFace", Order = 5)]
    public sealed class Options() : MultiplicativeMarginOptions(4);

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        // Normalized weights, unnormalized features: logits |x| cos_j. (Norms, then target, then logits:
        // the order of the graph's nodes sets the order in which gradients add up, and so the last bits.)
        var norms = batch.FeatureNorms;
        var target = MarginTarget(batch.TargetCosine, norms);
        return batch.WithTarget(norms * batch.Cosine, target);
    }
}
