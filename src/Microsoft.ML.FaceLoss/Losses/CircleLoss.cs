using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Circle loss, class-level form (Sun et al., CVPR 2020): softplus(logsumexp_n(gamma a_n (s_n - m))
/// - gamma a_p (s_p - (1 - m))) with s_p the target cosine, s_n the others, and self-paced weights
/// a_p = [1 + m - s_p]+, a_n = [s_n + m]+ (no gradient): each similarity is pushed by how far it is
/// from its optimum.
/// </summary>
public sealed class CircleLoss : ClassifierHead
{
    /// <summary>The options of <see cref="CircleLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _gamma = 256, _margin = 0.25;

        /// <inheritdoc />
        public override string HeadName => "CircleLoss";

        /// <summary>The scale gamma. Default: 256.</summary>
        [LossParameter("gamma")]
        public double Gamma { get => _gamma; set => _gamma = Positive(value, nameof(Gamma)); }

        /// <summary>The relaxation margin m, in [0, 1). Default: 0.25.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, 1, nameof(Margin)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new CircleLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public CircleLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        double gamma = _options.Gamma, m = _options.Margin;
        var cosine = Cosine(embeddings, weight);
        var positive = Target(cosine, labels).squeeze(1);
        var isTarget = OneHot(labels, cosine.shape[1], ScalarType.Bool);
        Tensor alphaP, alphaN;
        using (no_grad())
        {
            alphaP = (1 + m - positive).clamp_min(0);
            alphaN = (cosine + m).clamp_min(0);
        }
        var negativeLogits = (gamma * alphaN * (cosine - m)).masked_fill(isTarget, double.NegativeInfinity);
        var logit = negativeLogits.logsumexp(1) - gamma * alphaP * (positive - (1 - m));
        return nn.functional.softplus(logit, 1, 20).mean();
    }
}
