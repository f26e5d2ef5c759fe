using System.Diagnostics;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One training run: makes the network, the heads and the optimiser, then goes through the epochs,
/// with batches prepared on a background thread, one <see cref="TrainingStep"/> per step, progress
/// and cancellation after each step, validation and early stopping after each epoch, and checkpoints
/// (see <see cref="Checkpointer"/>) where a folder is set.
/// </summary>
/// <remarks>
/// As one rank of several (data-parallel, see <see cref="ICommunicator"/>): every rank starts from rank
/// 0's weights, trains its share of each step's batches (<see cref="BatchShare"/>), and the gradients are
/// averaged; batch normalisation stays local, as in insightface. Rank 0 alone validates (and shares the
/// figures, so that early stopping ends every rank together), logs, reports progress and writes the
/// checkpoint; with sharded class weights each rank also writes its shard's own checkpoint.
/// </remarks>
internal sealed class TrainingRun
{
    private readonly TrainingSettings _settings;
    private readonly EmbeddingNetworkConfig _config;
    private readonly int _classCount;
    private readonly int _seed;
    private readonly Device _device;
    private readonly Action<string> _log;
    private readonly ICommunicator _communicator;
    private readonly BatchShare _share;
    private readonly ClassShard? _classShard;

    public TrainingRun(TrainingSettings settings, EmbeddingNetworkConfig config, int classCount, int seed, Device device, Action<string> log,
        ICommunicator communicator)
    {
        _settings = settings;
        _config = config;
        _classCount = classCount;
        _seed = seed;
        _device = device;
        _communicator = communicator;
        _log = communicator.Rank == 0 ? log : _ => { };
        _share = new BatchShare(communicator.Rank, communicator.Size, settings.Parallel.MicroBatches);
        _classShard = settings.Parallel.ShardClassWeights && settings.Head.Loss.HasClassWeights
            ? ClassShard.Of(classCount, communicator.Rank, communicator.Size)
            : null;
    }

    private bool IsMain => _communicator.Rank == 0;

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
        using var heads = new TrainingHeads(_settings.Head, _classCount, _config.EmbeddingSize, _device, _classShard);
        var parameters = network.Module.parameters().Concat(heads.Parameters).ToList();
        using var optimizer = Optimizers.Create(parameters, _settings.Optimizer);
        (ShardedClassifier Main, ShardedClassifier? Warmup)? sharded = _classShard is { } classShard ? heads.Shard(classShard, _communicator) : null;
        var step = new TrainingStep(network, optimizer, parameters, sharded is null ? Array.Empty<Parameter>() : heads.Parameters.ToList(),
            _settings.Optimizer.GradientClipNorm, _communicator);
        int stepsPerEpoch = _share.StepsPerEpoch(source.BatchesPerEpoch);
        if (stepsPerEpoch == 0)
            throw new InvalidOperationException(
                $"An epoch has {source.BatchesPerEpoch} batches, fewer than one step of {_share.Ranks} ranks x {_share.MicroBatches} micro-batches needs. " +
                "Give more rows, a smaller BatchSize, fewer ranks or fewer GradientAccumulationSteps.");
        var rates = new LearningRates(schedule, stepsPerEpoch);
        long totalSteps = (long)stepsPerEpoch * schedule.Epochs;
        StartTogether(network, heads, sharded is not null, source);
        var checkpointer = _settings.Checkpoints.Folder is { } folder ? NewCheckpointer(folder, source, sharded is not null) : null;
        void Checkpoint(TrainingState s) => checkpointer?.Save(s, network, heads, optimizer);

        var state = checkpointer?.TryRestore(network, heads, optimizer);
        if (state is not null)
        {
            _log($"Resuming from '{checkpointer!.Path}' after epoch {state.CompletedEpochs}, batch {state.BatchesInEpoch} (step {state.Step}).");
            if (sharded is null && !IsMain) torch.manual_seed(RankSeed(state.Step)); // rank 0's random state was restored on every rank
        }
        state ??= new TrainingState();

        var clock = Stopwatch.StartNew();
        long imagesThisRun = 0, stepsThisRun = 0;
        for (int epoch = state.CompletedEpochs + 1; epoch <= schedule.Epochs && !state.Finished; epoch++)
        {
            heads.HandOverIfDue(epoch, state.BatchesInEpoch, _log);
            var head = heads.ActiveIn(epoch);
            var shardedHead = sharded is not { } shards ? null : ReferenceEquals(head, heads.Main) ? shards.Main : shards.Warmup;
            network.Module.train();
            head.train();
            var batches = BatchSource.Prefetch(source.Epoch(epoch, state.BatchesInEpoch, _share.IsMine, control.Cancellation), control.Cancellation,
                ahead: 2 * _share.PerStep); // two of this rank's steps

            foreach (var microBatches in _share.Steps(batches, source.Release))
            {
                double rate = rates.At(state.Step);
                step.SetLearningRate(rate);
                double loss = step.Run(head, shardedHead, microBatches, epoch, state.Step, rate);
                foreach (var batch in microBatches) source.Release(batch);
                state.Step++;
                state.BatchesInEpoch += _share.PerStep;
                state.EpochLossSum += loss;
                state.EpochSteps++;
                imagesThisRun += microBatches.Sum(b => b.Count) * (long)_share.Ranks; // every rank's, as rank 0 reports
                stepsThisRun++;
                double seconds = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                if (IsMain) control.Progress?.Report(new TrainingProgress
                {
                    Epoch = epoch, Epochs = schedule.Epochs, Step = state.Step, TotalSteps = totalSteps, Loss = loss,
                    EpochLoss = state.EpochLossSum / state.EpochSteps, LearningRate = rate, ImagesPerSecond = imagesThisRun / seconds,
                    TimeRemaining = TimeSpan.FromSeconds(Math.Max(0, totalSteps - state.Step) * seconds / stepsThisRun),
                    ValidationAccuracy = state.History.LastOrDefault()?.ValidationAccuracy,
                });
                if (_settings.Checkpoints.EverySteps > 0 && state.Step % _settings.Checkpoints.EverySteps == 0)
                    Checkpoint(state);
                if (AnyRank(control.Cancellation.IsCancellationRequested))
                {
                    Checkpoint(state);
                    _log($"Training cancelled after step {state.Step}" + (checkpointer is null ? "." : "; the checkpoint was written and Fit resumes from it."));
                    throw new OperationCanceledException(control.Cancellation.IsCancellationRequested ? control.Cancellation : CancellationToken.None);
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

        var (accuracy, auc, validationLoss) = ValidateOnMain(validator, network, head);
        if (accuracy > state.BestValidationAccuracy)
        {
            state.BestValidationAccuracy = accuracy;
            state.EpochsWithoutImprovement = 0;
            if (_settings.Validation.KeepBestEpoch && IsMain) state.BestNetwork = Checkpointer.Serialize(w => network.Module.save(w));
        }
        else
        {
            state.EpochsWithoutImprovement++;
        }
        return new EpochSummary { Epoch = epoch, Loss = loss, ValidationAccuracy = accuracy, ValidationAuc = auc, ValidationLoss = validationLoss };
    }

    /// <summary>Rank 0 validates; every rank gets its figures, so that early stopping and the best epoch agree.</summary>
    private (double Accuracy, double Auc, double? Loss) ValidateOnMain(Validator validator, EmbeddingNetwork network, Losses.FaceLossHead head)
    {
        if (_communicator.Size == 1) return validator.Validate(network, head);
        var figures = new double[3];
        if (IsMain)
        {
            var (accuracy, auc, loss) = validator.Validate(network, head);
            figures = new[] { accuracy, auc, loss ?? double.NaN };
        }
        _communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(figures.AsSpan()), root: 0);
        return (figures[0], figures[1], double.IsNaN(figures[2]) ? null : figures[2]);
    }

    /// <summary>Whether <paramref name="mine"/> holds on any rank.</summary>
    private bool AnyRank(bool mine)
    {
        if (_communicator.Size == 1) return mine;
        var flag = new[] { mine ? 1.0 : 0.0 };
        _communicator.AllReduce(flag, ReduceOperation.Max);
        return flag[0] > 0;
    }

    /// <summary>
    /// Every rank checks that its data are rank 0's and starts from rank 0's network and (unless
    /// sharded) heads, then draws its own random numbers (dropout, class sampling) from a seed of its own.
    /// </summary>
    private void StartTogether(EmbeddingNetwork network, TrainingHeads heads, bool sharded, BatchSource source)
    {
        if (_communicator.Size == 1) return;
        if (!_communicator.SameTextOnEveryRank(source.Describe()))
            throw new InvalidOperationException(
                $"The ranks' training data differ (rank {_communicator.Rank}: {source.Describe()}): every rank must read the same rows " +
                "in the same order, and each trains its own share of them. Give every rank the same data view.");
        _communicator.BroadcastFromRoot(network.Module.state_dict().Values);
        if (!sharded) _communicator.BroadcastFromRoot(heads.Modules.SelectMany(h => h.state_dict().Values));
        if (!IsMain) torch.manual_seed(RankSeed(0));
        _log($"Training as {_communicator.Size} ranks: each trains {_share.MicroBatches} batch(es) of {_settings.Data.BatchSize} images per step" +
            (sharded ? $"; the class weights are sharded, rank 0 holds {_classShard}." : "; gradients are averaged over the ranks."));
    }

    private long RankSeed(long step) => unchecked(_seed + 1_000_003L * _communicator.Rank + 7919L * step);

    /// <summary>
    /// Rank 0 writes the checkpoint; with sharded class weights every other rank also writes its own
    /// (network and optimizer state with its shard) into <c>rank-r</c> beside it. Without sharding every
    /// rank resumes from rank 0's file, which rank 0 reads and sends (no shared file system needed).
    /// </summary>
    private Checkpointer NewCheckpointer(string folder, BatchSource source, bool sharded)
    {
        string own = sharded && !IsMain ? Path.Combine(folder, $"rank-{_communicator.Rank}") : folder;
        return new Checkpointer(own, Fingerprint(source), writes: IsMain || sharded, sharded || _communicator.Size == 1 ? null : _communicator);
    }

    /// <summary>What a checkpoint of this run records and a resumed run must match (not the epoch count: a finished run may go on).</summary>
    private TrainingFingerprint Fingerprint(BatchSource source)
    {
        var o = _settings.Optimizer;
        var s = _settings.Schedule;
        var d = _settings.Data;
        var entries = new Dictionary<string, string>
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
        };
        // Only where it is not one process stepping on each batch, so that earlier checkpoints stay valid.
        if (_share.PerStep > 1 || _classShard is not null)
            entries["ranks"] = FormattableString.Invariant(
                $"{_share.Ranks}, {_share.MicroBatches} micro-batches each per step, class weights {(_classShard is null ? "whole on every rank" : "sharded")}");
        return new TrainingFingerprint(entries.ToList());
    }
}
