using Microsoft.ML.FaceLoss.Losses.Reduction;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options of the losses over the pairs or triplets of a batch (contrastive, triplet): they train
/// on identity-balanced batches, and reduce the mined pairs' or triplets' losses to one number.
/// </summary>
public abstract class PairLossOptions : FaceLossOptions
{
    /// <summary>How the losses of the mined pairs or triplets become one number. Default: <see cref="LossReduction.Auto"/> (what the head's paper does).</summary>
    [LossParameter("reduction", Shared = true)]
    public LossReduction Reduction { get; set; } = LossReduction.Auto;

    /// <inheritdoc />
    public override bool NeedsIdentityBalancedBatches => true;
}
