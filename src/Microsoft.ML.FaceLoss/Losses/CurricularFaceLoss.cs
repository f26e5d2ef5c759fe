using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// CurricularFace (Huang et al., CVPR 2020): ArcFace's target, and every non-target cosine above
/// cos(theta + m) (a hard negative) becomes cos * (t + cos), where t, a running mean of the target
/// cosines, lets hard negatives weigh more as training matures. State: <c>t</c> (starts at 0).
/// </summary>
public sealed class CurricularFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="CurricularFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _margin = 0.5;

        /// <inheritdoc />
        public override string HeadName => "CurricularFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The additive angular margin m in radians, in [0, pi). Default: 0.5.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, Math.PI, nameof(Margin)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new CurricularFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;
    private readonly Tensor _t;

    /// <summary>Creates the head.</summary>
    public CurricularFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _options = (Options)HeadOptions;
        _t = CreateState("t", zeros(Array.Empty<long>(), dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        double m = _options.Margin;
        var cosine = Cosine(embeddings, weight).clamp(-1, 1);
        var target = Target(cosine, labels);
        var sine = (1 - target * target).clamp_min(1e-12).sqrt();
        var cosThetaM = target * Math.Cos(m) - sine * Math.Sin(m);
        var phi = where(target > Math.Cos(Math.PI - m), cosThetaM, target - m * Math.Sin(Math.PI - m));
        if (training)
            using (no_grad()) _t.mul_(0.99).add_(target.mean() * 0.01);
        var hard = (cosine > cosThetaM).logical_and(OneHot(labels, cosine.shape[1], ScalarType.Bool).logical_not());
        var logits = where(hard, cosine * (_t + cosine), cosine);
        return CrossEntropy(ReplaceTarget(logits, labels, phi) * _options.Scale, labels);
    }
}
