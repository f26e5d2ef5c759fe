using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// What one training run uses, copied from <see cref="FaceEmbeddingTrainer.Options"/> when the
/// trainer is made (arrays and the loss options too), so that changes to the options afterwards do
/// not reach a trainer already built. Each part goes to the piece of the run that needs it.
/// </summary>
internal sealed record TrainingSettings(
    ColumnSettings Columns,
    NetworkSettings Network,
    HeadSettings Head,
    DataSettings Data,
    OptimizerSettings Optimizer,
    ScheduleSettings Schedule,
    ValidationSettings Validation,
    CheckpointSettings Checkpoints,
    RunControl Control,
    InferenceSettings Inference,
    ParallelSettings Parallel)
{
    /// <summary>The settings of <paramref name="o"/>, which must have been validated.</summary>
    public static TrainingSettings From(FaceEmbeddingTrainer.Options o) => new(
        new ColumnSettings(o.FeatureColumnName, o.LabelColumnName, o.OutputColumnName, o.ImageChannels, o.ImageHeight, o.ImageWidth),
        new NetworkSettings(o.CustomBackbone is null ? o.Backbone : FaceBackbone.Custom, o.BackboneWidth, o.StemStride,
            BackboneFactory.Copy(o.CustomBackbone), o.EmbeddingSize, o.DropoutRate, o.PretrainedModelFolder, o.FrozenStages),
        new HeadSettings(o.Loss.Clone(), o.SoftmaxWarmupEpochs),
        new DataSettings(o.InMemory, o.HorizontalFlip, o.RandomCropPadding, o.BatchSize, o.ImagesPerIdentity),
        new OptimizerSettings(o.Optimizer, o.LearningRate, o.Momentum, o.Nesterov, o.WeightDecay, o.AdamBeta1, o.AdamBeta2, o.GradientClipNorm),
        new ScheduleSettings(o.Epochs, o.LearningRate, o.LearningRateSchedule, o.LearningRateMilestones.ToArray(), o.LearningRateDecay,
            o.MinimumLearningRate, o.WarmupEpochs),
        new ValidationSettings(o.ValidationData, o.ValidationIdentityFraction, o.EarlyStoppingPatience, o.KeepBestEpoch),
        new CheckpointSettings(o.CheckpointFolder, o.CheckpointEverySteps),
        new RunControl(o.Progress, o.Cancellation, o.NumberOfThreads, o.Seed),
        new InferenceSettings(o.InferenceBatchSize, o.FlipTest),
        new ParallelSettings(o.Distributed, o.ShardClassWeights, o.GradientAccumulationSteps));
}

/// <summary>The columns the trainer reads and writes, and the image shape where the options give it (0: from the column).</summary>
internal sealed record ColumnSettings(string Feature, string Label, string Output, int Channels, int Height, int Width);

/// <summary>The backbone and the embedding it ends in.</summary>
internal sealed record NetworkSettings(FaceBackbone Backbone, int Width, int StemStride, BackboneFactory? Custom, int EmbeddingSize, double DropoutRate,
    string? PretrainedFolder = null, int FrozenStages = 0);

/// <summary>The loss head and the softmax epochs before it.</summary>
internal sealed record HeadSettings(FaceLossOptions Loss, int SoftmaxWarmupEpochs);

/// <summary>How batches are made: rows in memory or streamed, augmentation, batch size and P x K.</summary>
internal sealed record DataSettings(bool InMemory, bool HorizontalFlip, int RandomCropPadding, int BatchSize, int ImagesPerIdentity);

/// <summary>The optimiser and its parameters.</summary>
internal sealed record OptimizerSettings(FaceOptimizer Kind, double LearningRate, double Momentum, bool Nesterov, double WeightDecay,
    double AdamBeta1, double AdamBeta2, double GradientClipNorm);

/// <summary>How long the run trains and the learning rate of each step.</summary>
internal sealed record ScheduleSettings(int Epochs, double LearningRate, LearningRateSchedule Kind, IReadOnlyList<int> Milestones,
    double Decay, double MinimumRate, double WarmupEpochs);

/// <summary>Where validation images come from and what the run does with the figures.</summary>
internal sealed record ValidationSettings(IDataView? Data, double IdentityFraction, int EarlyStoppingPatience, bool KeepBestEpoch);

/// <summary>Where and how often checkpoints are written.</summary>
internal sealed record CheckpointSettings(string? Folder, int EverySteps);

/// <summary>Progress, cancellation, threads and seed.</summary>
internal sealed record RunControl(IProgress<TrainingProgress>? Progress, CancellationToken Cancellation, int? Threads, int? Seed);

/// <summary>How the trained transformer embeds data views.</summary>
internal sealed record InferenceSettings(int BatchSize, bool FlipTest);

/// <summary>Where the run trains (one process or the ranks of an MPI job), whether the class weights are sharded, and the micro-batches per step.</summary>
internal sealed record ParallelSettings(DistributedMode Mode, bool ShardClassWeights, int MicroBatches);
