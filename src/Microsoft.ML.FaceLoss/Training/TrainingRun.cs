using System.Diagnostics;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One training run: makes the network, the heads and the optimiser, then goes through the epochs,
/// with batches prepared on a background thread, one <see cref="TrainingStep"/> per batch, progress
/// and cancellation after each step, validation and early stopping after each epoch, and checkpoints
/// (see <see cref="Checkpointer"/>) where a folder is set.
/// </summary>
internal sealed class TrainingRun
{
    private readonly TrainingSettings _settings;
    private readonly EmbeddingNetworkConfig _config;
    private readonly int _classCount;
    private readonly int _seed;
    private readonly Device _device;
    private readonly Action<string> _log;

    public TrainingRun(TrainingSettings settings, EmbeddingNetworkConfig config, int classCount, int seed, Device device, Action<string> log)
    {
        _settings = settings;
        _config = config;
        _classCount = classCount;
        _seed = seed;
        _device = device;
        _log = log;
    }

    /// <summary>Trains a new network on <paramref name="source"/>; returns it (on the CPU, in evaluation mode) and the epochs' summaries.</summary>
    public (EmbeddingNetwork Network, IReadOnlyList<EpochSummary> History) Run(BatchSource source, Validator? validator)
    {
        lock (TorchRuntime.TrainingLock)
        {
            torch.manual_seed(_seed);
            var network = EmbeddingNetwork.Create(_config, _settings.Network.Custom);
            try
            {
                PretrainedModels.Initialize(network.Module, _settings.Network.PretrainedFolder, _settings.Network.FrozenStages, _log);
                var history = Train(network, source, validator);
                network.MoveTo(CPU);
                network.Module.eval();
                return (network, history);
            }
            catch
            {
                network.Dispose();
                throw;
            }
        }
    }

    private List<EpochSummary> Train(EmbeddingNetwork network, BatchSource source, Validator? validator)
    {
        var schedule = _settings.Schedule;
        var control = _settings.Control;
        network.MoveTo(_device);
        using var heads = new TrainingHeads(_settings.Head, _classCount, _config.EmbeddingSize, _device);
        var parameters = network.Module.parameters().Concat(heads.Parameters).ToList();
        using var optimizer = Optimizers.Create(parameters, _settings.Optimizer);
        var step = new TrainingStep(network, optimizer, parameters, _settings.Optimizer.GradientClipNorm);
        var rates = new LearningRates(schedule, source.BatchesPerEpoch);
        long totalSteps = (long)source.BatchesPerEpoch * schedule.Epochs;
        var checkpointer = _settings.Checkpoints.Folder is { } folder ? new Checkpointer(folder, Fingerprint(source)) : null;
        void Checkpoint(TrainingState s) => checkpointer?.Save(s, network, heads, optimizer);

        var state = checkpointer?.TryRestore(network, heads, optimizer);
        if (state is not null)
            _log($"Resuming from '{checkpointer!.Path}' after epoch {state.CompletedEpochs}, batch {state.BatchesInEpoch} (step {state.Step}).");
        state ??= new TrainingState();

        var clock = Stopwatch.StartNew();
        long imagesThisRun = 0, stepsThisRun = 0;
        for (int epoch = state.CompletedEpochs + 1; epoch <= schedule.Epochs && !state.Finished; epoch++)
        {
            heads.HandOverIfDue(epoch, state.BatchesInEpoch, _log);
            var head = heads.ActiveIn(epoch);
            network.Module.train();
            head.train();
            foreach (var batch in BatchSource.Prefetch(source.Epoch(epoch, state.BatchesInEpoch, control.Cancellation), control.Cancellation))
            {
                double rate = rates.At(state.Step);
                step.SetLearningRate(rate);
                double loss = step.Run(head, batch, epoch, state.Step, rate);
                source.Release(batch);
                state.Step++;
                state.BatchesInEpoch++;
                state.EpochLossSum += loss;
                state.EpochSteps++;
                imagesThisRun += batch.Count;
                stepsThisRun++;
                double seconds = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                control.Progress?.Report(new TrainingProgress
                {
                    Epoch = epoch, Epochs = schedule.Epochs, Step = state.Step, TotalSteps = totalSteps, Loss = loss,
                    EpochLoss = state.EpochLossSum / state.EpochSteps, LearningRate = rate, ImagesPerSecond = imagesThisRun / seconds,
                    TimeRemaining = TimeSpan.FromSeconds(Math.Max(0, totalSteps - state.Step) * seconds / stepsThisRun),
                    ValidationAccuracy = state.History.LastOrDefault()?.ValidationAccuracy,
                });
                if (_settings.Checkpoints.EverySteps > 0 && state.Step % _settings.Checkpoints.EverySteps == 0)
                    Checkpoint(state);
                if (control.Cancellation.IsCancellationRequested)
                {
                    Checkpoint(state);
                    _log($"Training cancelled after step {state.Step}" + (checkpointer is null ? "." : "; the checkpoint was written and Fit resumes from it."));
                    control.Cancellation.ThrowIfCancellationRequested();
                }
            }

            var summary = EndEpoch(epoch, state, network, head, validator);
            state.History.Add(summary);
            _log($"Epoch {epoch}/{schedule.Epochs}: loss {summary.Loss:G5}" +
                (summary.ValidationAccuracy is { } accuracy ? $", validation accuracy {accuracy:P2}, AUC {summary.ValidationAuc:F4}" : "") +
                (summary.ValidationLoss is { } validationLoss ? $", validation loss {validationLoss:G5}" : "") +
                $", {clock.Elapsed.TotalSeconds:F1} s.");
            int patience = _settings.Validation.EarlyStoppingPatience;
            bool stop = patience > 0 && state.EpochsWithoutImprovement >= patience;
            if (stop) _log($"Early stopping: no better validation accuracy for {state.EpochsWithoutImprovement} epochs.");
            state.Finished = stop; // a run that ended by its epoch count continues when more epochs are asked
            Checkpoint(state);
        }

        if (_settings.Validation.KeepBestEpoch && state.BestNetwork.Length > 0)
        {
            using var reader = new BinaryReader(new MemoryStream(state.BestNetwork));
            network.Module.load(reader);
            int best = state.History.Where(h => h.ValidationAccuracy.HasValue).MaxBy(h => h.ValidationAccuracy!.Value)!.Epoch;
            _log($"Keeping the weights of epoch {best}, the best on the validation data.");
        }
        return state.History;
    }

    private EpochSummary EndEpoch(int epoch, TrainingState state, EmbeddingNetwork network, Losses.FaceLossHead head, Validator? validator)
    {
        if (state.EpochSteps == 0)
            throw new InvalidOperationException(
                $"Epoch {epoch} had no training step: the data gave no batch of at least 2 rows (batch normalisation needs 2). Give more rows.");
        double loss = state.EpochLossSum / state.EpochSteps;
        state.CompletedEpochs = epoch;
        state.BatchesInEpoch = 0;
        state.EpochLossSum = 0;
        state.EpochSteps = 0;
        if (validator is null) return new EpochSummary { Epoch = epoch, Loss = loss };

        var (accuracy, auc, validationLoss) = validator.Validate(network, head);
        if (accuracy > state.BestValidationAccuracy)
        {
            state.BestValidationAccuracy = accuracy;
            state.EpochsWithoutImprovement = 0;
            if (_settings.Validation.KeepBestEpoch) state.BestNetwork = Checkpointer.Serialize(w => network.Module.save(w));
        }
        else
        {
            state.EpochsWithoutImprovement++;
        }
        return new EpochSummary { Epoch = epoch, Loss = loss, ValidationAccuracy = accuracy, ValidationAuc = auc, ValidationLoss = validationLoss };
    }

    /// <summary>What a checkpoint of this run records and a resumed run must match (not the epoch count: a finished run may go on).</summary>
    private TrainingFingerprint Fingerprint(BatchSource source)
    {
        var o = _settings.Optimizer;
        var s = _settings.Schedule;
        var d = _settings.Data;
        return new TrainingFingerprint(new Dictionary<string, string>
        {
            ["network"] = _config.ToString(),
            ["loss"] = _settings.Head.Loss.ToString(),
            ["softmax warm-up epochs"] = _settings.Head.SoftmaxWarmupEpochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["identities"] = _classCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["data"] = source.Describe(),
            ["seed"] = _seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["optimizer"] = FormattableString.Invariant($"{o.Kind}, learning rate {o.LearningRate:R}, momentum {o.Momentum:R}, Nesterov {o.Nesterov}, weight decay {o.WeightDecay:R}, betas {o.AdamBeta1:R}/{o.AdamBeta2:R}, clip {o.GradientClipNorm:R}"),
            ["schedule"] = FormattableString.Invariant($"{s.Kind}, milestones [{string.Join(" ", s.Milestones)}], decay {s.Decay:R}, minimum {s.MinimumRate:R}, warm-up {s.WarmupEpochs:R} epochs"),
            ["batches"] = FormattableString.Invariant($"{d.BatchSize} images, {d.ImagesPerIdentity} per identity, flip {d.HorizontalFlip}, crop padding {d.RandomCropPadding}, {(d.InMemory ? "in memory" : "streamed")}"),
        }.ToList());
    }
}
