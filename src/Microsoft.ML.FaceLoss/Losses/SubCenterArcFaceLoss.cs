using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Sub-center ArcFace (Deng et al., ECCV 2020): K centres per class, cos_j the best of class j's
/// K, then ArcFace. Noisy images gather at non-dominant sub-centres instead of pulling the main one.
/// </summary>
public sealed class SubCenterArcFaceLoss(SubCenterArcFaceLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<SubCenterArcFaceLoss.Options>(options, classCount, embeddingSize, dtype, device) // W has C*K rows
{
    /// <summary>The options of <see cref="SubCenterArcFaceLoss"/>: s = 64, m = 0.5 by default.</summary>
    [FaceLossHead("SubCenterArcFace", Order = 10)]
    public sealed class Options() : AngularMarginOptions(64, 0.5)
    {
        /// <summary>Sub-centres per class K, at least 1. Default: 3.</summary>
        [LossParameter("subcenters")]
        public int SubCenters
        {
            get;
            set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(SubCenters), value, "SubCenters (K) must be at least 1.");
        } = 3;

        /// <inheritdoc />
        public override int RowsPerClass => SubCenters;
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch) // the cosines are already the best sub-centre of each class
        => batch.WithTarget(batch.Cosine, AngularMargin.AddToAngle(batch.TargetCosine, HeadOptions.Margin)) * HeadOptions.Scale;
}
