using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// SphereFace / A-Softmax (Liu et al., CVPR 2017): normalized class weights, unnormalized features,
/// logits |x| cos_j, and the target |x| psi(theta) with psi = (-1)^k cos(m theta) - 2k, annealed
/// from the plain target by lambda (see <see cref="MultiplicativeMarginOptions"/>). State:
/// <c>iteration</c>, the optimizer steps taken.
/// </summary>
public sealed class SphereFaceLoss : MultiplicativeMarginHead
{
    /// <summary>The options of <see cref="SphereFaceLoss"/>: m = 4 by default.</summary>
    public sealed class Options : MultiplicativeMarginOptions
    {
        /// <summary>Creates the options with m = 4.</summary>
        public Options() : base(4)
        {
        }

        /// <inheritdoc />
        public override string HeadName => "SphereFace";

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new SphereFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    /// <summary>Creates the head.</summary>
    public SphereFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
    }

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        // Normalized weights, unnormalized features: logits |x| cos_j.
        var norm = embeddings.norm(1, keepdim: true);
        var cosine = Cosine(embeddings, weight);
        var target = MarginTarget(Target(cosine, labels), norm);
        return CrossEntropy(ReplaceTarget(norm * cosine, labels, target), labels);
    }
}
