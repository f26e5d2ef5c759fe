using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// CurricularFace (Huang et al., CVPR 2020): ArcFace's target, and every non-target cosine above
/// cos(theta + m) (a hard negative) becomes cos * (t + cos), where t, a running mean of the target
/// cosines, lets hard negatives weigh more as training matures. State: <c>t</c> (starts at 0).
/// </summary>
public sealed class CurricularFaceLoss : ClassifierHead<CurricularFaceLoss.Options>
{
    /// <summary>The options of <see cref="CurricularFaceLoss"/>: s = 64, m = 0.5 by default.</summary>
    [FaceLossHead("CurricularFace", Order = 11)]
    public sealed class Options() : AngularMarginOptions(64, 0.5)
    {
        /// <inheritdoc />
        public override string? ShardingLimitation =>
            "each row's target cosine re-weights the hard negatives of every class, and its running t averages the batch's target cosines: both need the other ranks' classes";
    }

    private readonly Tensor _t;

    /// <summary>Creates the head.</summary>
    public CurricularFaceLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _t = CreateState("t", zeros(Array.Empty<long>(), dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        var cosine = batch.Cosine.clamp(-1, 1);
        var target = cosine.gather(1, batch.Labels.unsqueeze(1));
        using var margin = tensor(HeadOptions.Margin, dtype: target.dtype, device: target.device);
        var phi = AngularMargin.AddToAngle(target, margin, easyMargin: false, out var cosThetaM);
        if (training)
            using (no_grad()) _t.mul_(0.99).add_(target.mean() * 0.01);
        var hard = (cosine > cosThetaM).logical_and(batch.OneHot(ScalarType.Bool).logical_not());
        var logits = where(hard, cosine * (_t + cosine), cosine);
        return batch.WithTarget(logits, phi) * HeadOptions.Scale;
    }
}
