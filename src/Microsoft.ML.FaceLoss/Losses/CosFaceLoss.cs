using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// CosFace / AM-Softmax / LMCL (Wang et al., CVPR 2018): CE(s * (cos - m * onehot)), an additive
/// cosine margin on the target. Trains stably from scratch; a safe first choice on small data.
/// </summary>
public sealed class CosFaceLoss(CosFaceLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<CosFaceLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="CosFaceLoss"/>: s = 64 by default.</summary>
    [FaceLossHead("CosFace", Order = 7)]
    public sealed class Options() : ScaledClassifierOptions(64)
    {
        /// <summary>The additive cosine margin m, in [0, 2). Default: 0.35.</summary>
        [LossParameter("margin")]
        public double Margin { get; set => field = InRange(value, 0, 2, nameof(Margin)); } = 0.35;

        /// <inheritdoc />
        public override void ApplySmallDataPreset() => (Scale, Margin) = (16, 0.2);
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
        => (batch.Cosine - batch.OneHot(batch.Cosine.dtype) * HeadOptions.Margin) * HeadOptions.Scale;
}
