using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Circle loss, class-level form (Sun et al., CVPR 2020): softplus(logsumexp_n(gamma a_n (s_n - m))
/// - gamma a_p (s_p - (1 - m))) with s_p the target cosine, s_n the others, and self-paced weights
/// a_p = [1 + m - s_p]+, a_n = [s_n + m]+ (no gradient): each similarity is pushed by how far it is
/// from its optimum. That is the cross-entropy of the logits gamma a_n (s_n - m) with the target
/// logit gamma a_p (s_p - (1 - m)), which is how the head computes it.
/// </summary>
public sealed class CircleLoss(CircleLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<CircleLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="CircleLoss"/>.</summary>
    [FaceLossHead("CircleLoss", Order = 15)]
    public sealed class Options : ClassifierOptions
    {
        /// <summary>The scale gamma. Default: 256.</summary>
        [LossParameter("gamma")]
        public double Gamma { get; set => field = Positive(value, nameof(Gamma)); } = 256;

        /// <summary>The relaxation margin m, in [0, 1). Default: 0.25.</summary>
        [LossParameter("margin")]
        public double Margin { get; set => field = InRange(value, 0, 1, nameof(Margin)); } = 0.25;

        /// <inheritdoc />
        public override void ApplySmallDataPreset() => Gamma = 32;
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        double gamma = HeadOptions.Gamma, m = HeadOptions.Margin;
        var cosine = batch.Cosine;
        var positive = batch.TargetCosine;
        Tensor alphaP, alphaN;
        using (no_grad())
        {
            alphaP = (1 + m - positive).clamp_min(0);
            alphaN = (cosine + m).clamp_min(0);
        }
        return batch.WithTarget(gamma * alphaN * (cosine - m), gamma * alphaP * (positive - (1 - m)));
    }
}
