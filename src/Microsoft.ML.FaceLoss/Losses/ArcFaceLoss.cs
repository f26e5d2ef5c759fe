using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// ArcFace (additive angular margin; Deng et al., CVPR 2019): target logit s*cos(theta + m); where
/// theta + m would pass pi (t &lt;= cos(pi - m)) it is s*(t - m*sin(pi - m)) instead, so the target
/// stays monotonic. With <see cref="Options.EasyMargin"/>, targets with t &lt;= 0 keep t.
/// </summary>
public sealed class ArcFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="ArcFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _margin = 0.5;

        /// <inheritdoc />
        public override string HeadName => "ArcFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The additive angular margin m in radians, in [0, pi). Default: 0.5.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, Math.PI, nameof(Margin)); }

        /// <summary>Whether targets with t &lt;= 0 keep their cosine (the "easy margin"). Default: false.</summary>
        [LossParameter("easy_margin")]
        public bool EasyMargin { get; set; }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new ArcFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public ArcFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        var cosine = Cosine(embeddings, weight);
        var phi = AngularMargin.AddToAngle(Target(cosine, labels), _options.Margin, _options.EasyMargin);
        return CrossEntropy(ReplaceTarget(cosine, labels, phi) * _options.Scale, labels);
    }
}
