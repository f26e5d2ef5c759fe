using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Combined margin (insightface; Deng et al. 2019): target s*(cos(m1*theta + m2) - m3), with t
/// clamped to [-1+1e-7, 1-1e-7] before acos. m1 is SphereFace's, m2 ArcFace's, m3 CosFace's margin.
/// </summary>
public sealed class CombinedMarginLoss : ClassifierHead
{
    /// <summary>The options of <see cref="CombinedMarginLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _m1 = 1, _m2 = 0.3, _m3 = 0.2;

        /// <inheritdoc />
        public override string HeadName => "CombinedMargin";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The multiplicative angular margin m1, greater than 0. Default: 1.</summary>
        [LossParameter("m1")]
        public double M1 { get => _m1; set => _m1 = Positive(value, nameof(M1)); }

        /// <summary>The additive angular margin m2 in radians, in [0, pi). Default: 0.3.</summary>
        [LossParameter("m2")]
        public double M2 { get => _m2; set => _m2 = InRange(value, 0, Math.PI, nameof(M2)); }

        /// <summary>The additive cosine margin m3, in [0, 2). Default: 0.2.</summary>
        [LossParameter("m3")]
        public double M3 { get => _m3; set => _m3 = InRange(value, 0, 2, nameof(M3)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new CombinedMarginLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public CombinedMarginLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        var cosine = Cosine(embeddings, weight);
        var theta = Target(cosine, labels).clamp(-1 + 1e-7, 1 - 1e-7).acos();
        var target = (theta * _options.M1 + _options.M2).cos() - _options.M3;
        return CrossEntropy(ReplaceTarget(cosine, labels, target) * _options.Scale, labels);
    }
}
