namespace Microsoft.ML.FaceLoss.Training;

/// <summary>The learning rate of each step: linear warm-up, then the schedule.</summary>
internal sealed class LearningRates
{
    private readonly ScheduleSettings _settings;
    private readonly long _stepsPerEpoch;
    private readonly long _totalSteps;
    private readonly long _warmupSteps;

    public LearningRates(ScheduleSettings settings, long stepsPerEpoch)
    {
        _settings = settings;
        _stepsPerEpoch = Math.Max(1, stepsPerEpoch);
        _totalSteps = _stepsPerEpoch * settings.Epochs;
        _warmupSteps = (long)Math.Round(settings.WarmupEpochs * _stepsPerEpoch);
    }

    /// <summary>The rate of the step with 0-based global index <paramref name="step"/>.</summary>
    public double At(long step)
    {
        double rate = _settings.LearningRate;
        if (step < _warmupSteps) return rate * (step + 1) / _warmupSteps;
        switch (_settings.Kind)
        {
            case LearningRateSchedule.Step:
                long completedEpochs = step / _stepsPerEpoch;
                int passed = _settings.Milestones.Count(m => completedEpochs >= m);
                return rate * Math.Pow(_settings.Decay, passed);
            case LearningRateSchedule.Cosine:
                double span = Math.Max(1, _totalSteps - _warmupSteps);
                double progress = Math.Clamp((step - _warmupSteps) / span, 0, 1);
                return _settings.MinimumRate + (rate - _settings.MinimumRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
            default:
                return rate;
        }
    }
}
