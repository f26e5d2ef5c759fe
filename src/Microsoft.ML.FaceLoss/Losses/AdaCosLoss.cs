using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// AdaCos (Zhang et al., CVPR 2019): CE(s * cos) with no margin and no scale to tune: before each
/// step s becomes ln(B) / cos(min(pi/4, theta_med)), B the mean over samples of the summed
/// exp(s cos) of the non-target classes, theta_med the lower median target angle. State:
/// <c>scale</c>, starting at sqrt(2) ln(C - 1). The update is clamped to <see cref="Options.MaximumScale"/>:
/// while the hardest non-target cosine exceeds the median target cosine (early training on many
/// similar classes) ln(B) grows faster than s and the unclamped update diverges to infinity.
/// </summary>
public sealed class AdaCosLoss : ClassifierHead<AdaCosLoss.Options>
{
    /// <summary>The options of <see cref="AdaCosLoss"/>; the head has no parameters to tune.</summary>
    [FaceLossHead("AdaCos", Order = 14)]
    public sealed class Options : ClassifierOptions
    {
        /// <inheritdoc />
        public override string? ShardingLimitation =>
            "its scale comes from statistics of the whole batch over all classes (the median target angle, the sum over the non-target classes), which no rank holds alone";

        /// <summary>
        /// The largest scale the adaptive update may set. Default: 64, the largest scale the other
        /// normalized heads use; the paper's update has no bound (<see cref="double.PositiveInfinity"/>
        /// restores it) and diverges when the hardest negatives stay closer than the median positive.
        /// </summary>
        [LossParameter("max_scale")]
        public double MaximumScale
        {
            get;
            set => field = value > 0 ? value
                : throw new ArgumentOutOfRangeException(nameof(MaximumScale), value, "MaximumScale must be greater than 0 (PositiveInfinity for no bound).");
        } = 64;

        /// <inheritdoc />
        public override void ApplySmallDataPreset() => MaximumScale = 16;
    }

    private readonly Tensor _scale;

    /// <summary>Creates the head.</summary>
    public AdaCosLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _scale = CreateState("scale", full(Array.Empty<long>(), Math.Min(options.MaximumScale, Math.Sqrt(2) * Math.Log(Math.Max(1, classCount - 1))), dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        var cosine = batch.Cosine;
        if (training)
        {
            using var noGrad = no_grad();
            var oneHot = batch.OneHot(ScalarType.Bool);
            // ln B as a log-sum-exp, so that a large scale cannot overflow exp.
            var logB = (cosine * _scale).masked_fill(oneHot, double.NegativeInfinity).flatten().logsumexp(0) - Math.Log(cosine.shape[0]);
            var thetaMedian = batch.TargetCosine.clamp(-1 + 1e-7, 1 - 1e-7).acos().median();
            _scale.copy_((logB / thetaMedian.clamp_max(Math.PI / 4).cos()).clamp_max(HeadOptions.MaximumScale));
        }
        return cosine * _scale;
    }
}
