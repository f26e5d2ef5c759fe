using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// AdaFace (Kim et al., CVPR 2022): the feature norm, a proxy of image quality, sets the margin:
/// z = clamp(h (|x| - mean) / (std + 1e-3), -1, 1) from running norm statistics, and the target
/// becomes cos(clamp(theta - m z)) - (m + m z); high-quality images get an ArcFace-like margin,
/// low-quality ones a CosFace-like one. State: <c>batch_mean</c> (20), <c>batch_std</c> (100).
/// </summary>
public sealed class AdaFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="AdaFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _margin = 0.4, _h = 0.333;

        /// <inheritdoc />
        public override string HeadName => "AdaFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The margin m, in [0, pi). Default: 0.4.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, Math.PI, nameof(Margin)); }

        /// <summary>h, how strongly the normalized feature norm moves the margin, at or above 0. Default: 0.333.</summary>
        [LossParameter("h")]
        public double H { get => _h; set => _h = NonNegative(value, nameof(H)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new AdaFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;
    private readonly Tensor _mean, _std;

    /// <summary>Creates the head.</summary>
    public AdaFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _options = (Options)HeadOptions;
        _mean = CreateState("batch_mean", full(Array.Empty<long>(), 20.0, dtype, device));
        _std = CreateState("batch_std", full(Array.Empty<long>(), 100.0, dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        double m = _options.Margin;
        Tensor z;
        using (no_grad())
        {
            var norms = embeddings.norm(1, keepdim: true).clamp(0.001, 100);
            if (training)
            {
                _mean.mul_(0.99).add_(norms.mean() * 0.01);
                if (norms.shape[0] > 1) _std.mul_(0.99).add_(norms.std() * 0.01);
            }
            z = ((norms - _mean) / (_std + 1e-3) * _options.H).clamp(-1, 1);
        }
        var cosine = Cosine(embeddings, weight).clamp(-1 + 1e-3, 1 - 1e-3);
        var theta = Target(cosine, labels).acos();
        var target = (theta - m * z).clamp(1e-3, Math.PI - 1e-3).cos() - (m + m * z);
        return CrossEntropy(ReplaceTarget(cosine, labels, target) * _options.Scale, labels);
    }
}
