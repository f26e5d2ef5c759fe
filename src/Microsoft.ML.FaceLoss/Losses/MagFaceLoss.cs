using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// MagFace (Meng et al., CVPR 2021): the feature magnitude a = clamp(|x|, l_a, u_a) sets an ArcFace
/// margin m(a) rising linearly from l_m to u_m, and a regulariser lambda_g (1/a + a/u_a^2) pulls
/// magnitudes up, so that |x| becomes a measure of image quality.
/// </summary>
public sealed class MagFaceLoss : ClassifierHead<MagFaceLoss.Options>
{
    /// <summary>The options of <see cref="MagFaceLoss"/> (s = 64 by default); l_a must stay below u_a.</summary>
    [FaceLossHead("MagFace", Order = 13)]
    public sealed class Options() : ScaledClassifierOptions(64)
    {
        /// <inheritdoc />
        public override string? ShardingLimitation => "its magnitude regulariser is a term beside the cross-entropy, which the sharded softmax does not carry";

        /// <summary>l_a, the lowest magnitude, greater than 0 and below u_a. Default: 10.</summary>
        [LossParameter("l_a")]
        public double LowerMagnitude { get; set => field = Positive(value, nameof(LowerMagnitude)); } = 10;

        /// <summary>u_a, the highest magnitude, above l_a. Default: 110.</summary>
        [LossParameter("u_a")]
        public double UpperMagnitude { get; set => field = Positive(value, nameof(UpperMagnitude)); } = 110;

        /// <summary>l_m, the margin at magnitude l_a, in [0, pi). Default: 0.45.</summary>
        [LossParameter("l_m")]
        public double LowerMargin { get; set => field = InRange(value, 0, Math.PI, nameof(LowerMargin)); } = 0.45;

        /// <summary>u_m, the margin at magnitude u_a, in [0, pi). Default: 0.8.</summary>
        [LossParameter("u_m")]
        public double UpperMargin { get; set => field = InRange(value, 0, Math.PI, nameof(UpperMargin)); } = 0.8;

        /// <summary>lambda_g, the weight of the magnitude regulariser, at or above 0. Default: 35.</summary>
        [LossParameter("lambda_g")]
        public double LambdaG { get; set => field = NonNegative(value, nameof(LambdaG)); } = 35;

        /// <inheritdoc />
        public override void ApplySmallDataPreset() => (Scale, LowerMargin, UpperMargin) = (16, 0.1, 0.3);
    }

    /// <summary>Creates the head.</summary>
    /// <exception cref="ArgumentOutOfRangeException">l_a is not below u_a.</exception>
    public MagFaceLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(Checked(options), classCount, embeddingSize, dtype, device)
    {
    }

    private static Options Checked(Options options)
        => options.LowerMagnitude < options.UpperMagnitude ? options
            : throw new ArgumentOutOfRangeException(nameof(options), $"MagFace needs l_a < u_a, got {options.LowerMagnitude} and {options.UpperMagnitude}.");

    private Tensor Magnitude(ClassifierBatch batch) => batch.FeatureNorms.clamp(HeadOptions.LowerMagnitude, HeadOptions.UpperMagnitude);

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        var o = HeadOptions;
        var margin = (Magnitude(batch) - o.LowerMagnitude) * ((o.UpperMargin - o.LowerMargin) / (o.UpperMagnitude - o.LowerMagnitude)) + o.LowerMargin;
        var phi = AngularMargin.AddToAngle(batch.TargetCosine, margin, easyMargin: false, out _);
        return batch.WithTarget(batch.Cosine, phi) * o.Scale;
    }

    /// <inheritdoc />
    protected override Tensor ExtraLoss(ClassifierBatch batch)
    {
        var magnitude = Magnitude(batch);
        return HeadOptions.LambdaG * (1 / magnitude + magnitude / (HeadOptions.UpperMagnitude * HeadOptions.UpperMagnitude)).mean();
    }
}
