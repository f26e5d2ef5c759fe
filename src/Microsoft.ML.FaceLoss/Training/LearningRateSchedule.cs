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

/// <summary>The learning rate of each step: linear warm-up, then the schedule.</summary>
internal sealed class LearningRates
{
    private readonly FaceEmbeddingTrainer.Options _options;
    private readonly long _stepsPerEpoch;
    private readonly long _totalSteps;
    private readonly long _warmupSteps;

    public LearningRates(FaceEmbeddingTrainer.Options options, long stepsPerEpoch)
    {
        _options = options;
        _stepsPerEpoch = Math.Max(1, stepsPerEpoch);
        _totalSteps = _stepsPerEpoch * options.Epochs;
        _warmupSteps = (long)Math.Round(options.WarmupEpochs * _stepsPerEpoch);
    }

    /// <summary>The rate of the step with 0-based global index <paramref name="step"/>.</summary>
    public double At(long step)
    {
        double rate = _options.LearningRate;
        if (step < _warmupSteps) return rate * (step + 1) / _warmupSteps;
        switch (_options.LearningRateSchedule)
        {
            case LearningRateSchedule.Step:
                long completedEpochs = step / _stepsPerEpoch;
                int passed = _options.LearningRateMilestones.Count(m => completedEpochs >= m);
                return rate * Math.Pow(_options.LearningRateDecay, passed);
            case LearningRateSchedule.Cosine:
                double span = Math.Max(1, _totalSteps - _warmupSteps);
                double progress = Math.Clamp((step - _warmupSteps) / span, 0, 1);
                return _options.MinimumLearningRate + (rate - _options.MinimumLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
            default:
                return rate;
        }
    }
}
