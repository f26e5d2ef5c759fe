using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Combined margin (insightface; Deng et al. 2019): target s*(cos(m1*theta + m2) - m3), with t
/// clamped to [-1+1e-7, 1-1e-7] before acos. m1 is SphereFace's, m2 ArcFace's, m3 CosFace's margin.
/// </summary>
public sealed class CombinedMarginLoss(CombinedMarginLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<CombinedMarginLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="CombinedMarginLoss"/>: s = 64 by default.</summary>
    [FaceLossHead("CombinedMargin", Order = 9)]
    public sealed class Options() : ScaledClassifierOptions(64)
    {
        /// <summary>The multiplicative angular margin m1, greater than 0. Default: 1.</summary>
        [LossParameter("m1")]
        public double M1 { get; set => field = Positive(value, nameof(M1)); } = 1;

        /// <summary>The additive angular margin m2 in radians, in [0, pi). Default: 0.3.</summary>
        [LossParameter("m2")]
        public double M2 { get; set => field = InRange(value, 0, Math.PI, nameof(M2)); } = 0.3;

        /// <summary>The additive cosine margin m3, in [0, 2). Default: 0.2.</summary>
        [LossParameter("m3")]
        public double M3 { get; set => field = InRange(value, 0, 2, nameof(M3)); } = 0.2;

        /// <inheritdoc />
        public override void ApplySmallDataPreset() => (Scale, M2, M3) = (16, 0.2, 0.1);
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        var theta = batch.TargetCosine.clamp(-1 + 1e-7, 1 - 1e-7).acos();
        var target = (theta * HeadOptions.M1 + HeadOptions.M2).cos() - HeadOptions.M3;
        return batch.WithTarget(batch.Cosine, target) * HeadOptions.Scale;
    }
}
