using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// MagFace (Meng et al., CVPR 2021): the feature magnitude a = clamp(|x|, l_a, u_a) sets an ArcFace
/// margin m(a) rising linearly from l_m to u_m, and a regulariser lambda_g (1/a + a/u_a^2) pulls
/// magnitudes up, so that |x| becomes a measure of image quality.
/// </summary>
public sealed class MagFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="MagFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _lowerA = 10, _upperA = 110, _lowerM = 0.45, _upperM = 0.8, _lambdaG = 35;

        /// <inheritdoc />
        public override string HeadName => "MagFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>l_a, the lowest magnitude, greater than 0 and below u_a. Default: 10.</summary>
        [LossParameter("l_a")]
        public double LowerMagnitude { get => _lowerA; set => _lowerA = Positive(value, nameof(LowerMagnitude)); }

        /// <summary>u_a, the highest magnitude, above l_a. Default: 110.</summary>
        [LossParameter("u_a")]
        public double UpperMagnitude { get => _upperA; set => _upperA = Positive(value, nameof(UpperMagnitude)); }

        /// <summary>l_m, the margin at magnitude l_a, in [0, pi). Default: 0.45.</summary>
        [LossParameter("l_m")]
        public double LowerMargin { get => _lowerM; set => _lowerM = InRange(value, 0, Math.PI, nameof(LowerMargin)); }

        /// <summary>u_m, the margin at magnitude u_a, in [0, pi). Default: 0.8.</summary>
        [LossParameter("u_m")]
        public double UpperMargin { get => _upperM; set => _upperM = InRange(value, 0, Math.PI, nameof(UpperMargin)); }

        /// <summary>lambda_g, the weight of the magnitude regulariser, at or above 0. Default: 35.</summary>
        [LossParameter("lambda_g")]
        public double LambdaG { get => _lambdaG; set => _lambdaG = NonNegative(value, nameof(LambdaG)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
        {
            if (!(LowerMagnitude < UpperMagnitude))
                throw new ArgumentOutOfRangeException(nameof(LowerMagnitude), $"MagFace needs l_a < u_a, got {LowerMagnitude} and {UpperMagnitude}.");
            return new MagFaceLoss(this, classCount, embeddingSize, dtype, device);
        }
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public MagFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        var o = _options;
        var magnitude = embeddings.norm(1, keepdim: true).clamp(o.LowerMagnitude, o.UpperMagnitude);
        var margin = (magnitude - o.LowerMagnitude) * ((o.UpperMargin - o.LowerMargin) / (o.UpperMagnitude - o.LowerMagnitude)) + o.LowerMargin;
        var cosine = Cosine(embeddings, weight);
        var phi = AngularMargin.AddToAngle(Target(cosine, labels), margin);
        var regulariser = (1 / magnitude + magnitude / (o.UpperMagnitude * o.UpperMagnitude)).mean();
        return CrossEntropy(ReplaceTarget(cosine, labels, phi) * o.Scale, labels) + o.LambdaG * regulariser;
    }
}
