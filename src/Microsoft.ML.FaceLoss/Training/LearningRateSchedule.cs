namespace Microsoft.ML.FaceLoss.Training;

/// <summary>How the learning rate changes over training (after the linear warm-up, if any).</summary>
public enum LearningRateSchedule
{
    /// <summary>The base rate throughout.</summary>
    Constant,

    /// <summary>The rate is multiplied by <c>LearningRateDecay</c> after each epoch of <c>LearningRateMilestones</c>.</summary>
    Step,

    /// <summary>Half a cosine from the base rate down to <c>MinimumLearningRate</c> at the last step.</summary>
    Cosine,
}
