using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// ArcFace (additive angular margin; Deng et al., CVPR 2019): target logit s*cos(theta + m); where
/// theta + m would pass pi (t &lt;= cos(pi - m)) it is s*(t - m*sin(pi - m)) instead, so the target
/// stays monotonic. With <see cref="Options.EasyMargin"/>, targets with t &lt;= 0 keep t.
/// </summary>
public sealed class ArcFaceLoss(ArcFaceLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<ArcFaceLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="ArcFaceLoss"/>: s = 64, m = 0.5 by default.</summary>
    [FaceLossHead("ArcFace", Order = 8)]
    public sealed class Options() : AngularMarginOptions(64, 0.5)
    {
        /// <summary>Whether targets with t &lt;= 0 keep their cosine (the "easy margin"). Default: false.</summary>
        [LossParameter("easy_margin")]
        public bool EasyMargin { get; set; }
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
        => batch.WithTarget(batch.Cosine, AngularMargin.AddToAngle(batch.TargetCosine, HeadOptions.Margin, HeadOptions.EasyMargin)) * HeadOptions.Scale;
}
