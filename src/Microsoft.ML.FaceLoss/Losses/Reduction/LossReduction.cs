namespace Microsoft.ML.FaceLoss.Losses.Reduction;

/// <summary>How a pair or triplet head turns the losses of its mined pairs or triplets into one number (see <see cref="LossReducer.For"/>).</summary>
public enum LossReduction
{
    /// <summary>What the head's paper does: triplets with <c>All</c> mining average the positive losses, every other case takes the mean.</summary>
    Auto,

    /// <summary>The mean over every pair or triplet.</summary>
    Mean,

    /// <summary>The mean over the pairs or triplets whose loss is positive ("average non-zero"): easy ones do not dilute the hard.</summary>
    MeanOfPositive,
}
