using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// L-Softmax (Liu et al., ICML 2016): logits x W^T with the target |W_y||x| psi(theta), psi =
/// (-1)^k cos(m theta) - 2k, annealed from the plain target by lambda (see
/// <see cref="MultiplicativeMarginOptions"/>). SphereFace's ancestor, without weight normalization.
/// State: <c>iteration</c>.
/// </summary>
public sealed class LargeMarginSoftmaxLoss : MultiplicativeMarginHead
{
    /// <summary>The options of <see cref="LargeMarginSoftmaxLoss"/>: m = 2 by default.</summary>
    public sealed class Options : MultiplicativeMarginOptions
    {
        /// <summary>Creates the options with m = 2.</summary>
        public Options() : base(2)
        {
        }

        /// <inheritdoc />
        public override string HeadName => "LargeMarginSoftmax";

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new LargeMarginSoftmaxLoss(this, classCount, embeddingSize, dtype, device);
    }

    /// <summary>Creates the head.</summary>
    public LargeMarginSoftmaxLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
    }

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        // Neither side normalized: logits x W^T, the target scaled by |W_y||x|.
        var scale = embeddings.norm(1, keepdim: true) * weight.index_select(0, labels).norm(1, keepdim: true);
        var target = MarginTarget(Target(Cosine(embeddings, weight), labels), scale);
        return CrossEntropy(ReplaceTarget(embeddings.mm(weight.t()), labels, target), labels);
    }
}
