using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// L-Softmax (Liu et al., ICML 2016): logits x W^T with the target |W_y||x| psi(theta), psi =
/// (-1)^k cos(m theta) - 2k, annealed from the plain target by lambda (see
/// <see cref="MultiplicativeMarginOptions"/>). SphereFace's ancestor, without weight normalization.
/// State: <c>iteration</c>.
/// </summary>
public sealed class LargeMarginSoftmaxLoss : ClassifierHead
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

    private readonly Options _options;
    private readonly Tensor _iteration;

    /// <summary>Creates the head.</summary>
    public LargeMarginSoftmaxLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _options = (Options)HeadOptions;
        _iteration = CreateState("iteration", zeros(Array.Empty<long>(), ScalarType.Int64, device));
    }

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        double lambda = _options.Lambda(_iteration.item<long>());
        var logits = embeddings.mm(weight.t());
        var t = Target(Cosine(embeddings, weight), labels);
        var scale = embeddings.norm(1, keepdim: true) * weight.index_select(0, labels).norm(1, keepdim: true);
        var target = (lambda * scale * t + scale * MultiplicativeMargin.Psi(t, _options.Margin)) / (1 + lambda);
        var loss = CrossEntropy(ReplaceTarget(logits, labels, target), labels);
        if (training)
            using (no_grad()) _iteration.add_(1);
        return loss;
    }
}
