namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Where a training run stands after one step; reported through <c>FaceEmbeddingTrainer.Options.Progress</c>.</summary>
public sealed class TrainingProgress
{
    /// <summary>The current epoch, from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>The number of epochs of the run.</summary>
    public int Epochs { get; init; }

    /// <summary>Optimizer steps taken so far in the run, including those before a resume.</summary>
    public long Step { get; init; }

    /// <summary>The expected optimizer steps of the whole run.</summary>
    public long TotalSteps { get; init; }

    /// <summary>The loss of this step.</summary>
    public double Loss { get; init; }

    /// <summary>The mean loss of the current epoch so far.</summary>
    public double EpochLoss { get; init; }

    /// <summary>The learning rate of this step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Training images per second since this <c>Fit</c> started.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>The estimated time to the end of the run.</summary>
    public TimeSpan TimeRemaining { get; init; }

    /// <summary>The verification accuracy of the last validation, or null before the first or without validation data.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <inheritdoc />
    public override string ToString()
        => $"epoch {Epoch}/{Epochs} step {Step}/{TotalSteps} loss {Loss:G4} (epoch {EpochLoss:G4}) lr {LearningRate:G3} {ImagesPerSecond:F1} img/s, {TimeRemaining:hh\\:mm\\:ss} left";
}
