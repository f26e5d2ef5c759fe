using System.Diagnostics;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One training run: backbone and head(s), optimiser and schedule, batches prepared on a
/// background thread, validation and early stopping, checkpoints and resume, progress and
/// cancellation, and the guard against non-finite losses and gradients.
/// </summary>
internal sealed class TrainingSession
{
    private readonly FaceEmbeddingTrainer.Options _options;
    private readonly EmbeddingNetworkConfig _config;
    private readonly BackboneFactoryHolder _custom;
    private readonly int _classCount;
    private readonly int _seed;
    private readonly Device _device;
    private readonly Action<string> _log;

    public TrainingSession(FaceEmbeddingTrainer.Options options, EmbeddingNetworkConfig config, int classCount, int seed, Device device, Action<string> log)
    {
        _options = options;
        _config = config;
        _custom = new BackboneFactoryHolder(options.CustomBackbone);
        _classCount = classCount;
        _seed = seed;
        _device = device;
        _log = log;
    }

    private string Fingerprint
        => $"{_config} | {_options.Loss} | warm-up {_options.SoftmaxWarmupEpochs} | classes {_classCount} | seed {_seed} | {_options.Optimizer} | batch {_options.BatchSize}x{_options.ImagesPerIdentity}";

    public (EmbeddingNetwork Network, IReadOnlyList<EpochSummary> History) Run(BatchSource source, TrainingData? validation)
    {
        lock (TorchRuntime.TrainingLock)
        {
            torch.manual_seed(_seed);
            var network = EmbeddingNetwork.Create(_config, _custom.Factory);
            try
            {
                var history = Train(network, source, validation);
                network.Module.to(CPU);
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

    private List<EpochSummary> Train(EmbeddingNetwork network, BatchSource source, TrainingData? validation)
    {
        var o = _options;
        network.Module.to(_device);
        using var head = o.Loss.CreateHead(_classCount, _config.EmbeddingSize, ScalarType.Float32, _device);
        bool warmUp = o.SoftmaxWarmupEpochs > 0 && o.Loss is not SoftmaxLoss.Options;
        using var warmupHead = warmUp ? new SoftmaxLoss.Options().CreateHead(_classCount, _config.EmbeddingSize, ScalarType.Float32, _device) : null;
        var parameters = network.Module.parameters().Concat(head.parameters()).Concat(warmupHead?.parameters() ?? Enumerable.Empty<Parameter>()).ToList();
        using var optimizer = o.Optimizer == FaceOptimizer.AdamW
            ? (OptimizerHelper)optim.AdamW(parameters, o.LearningRate, o.AdamBeta1, o.AdamBeta2, 1e-8, o.WeightDecay)
            : optim.SGD(parameters, o.LearningRate, o.Momentum, 0, o.WeightDecay, o.Nesterov && o.Momentum > 0);
        var rates = new LearningRates(o, source.BatchesPerEpoch);
        long totalSteps = (long)source.BatchesPerEpoch * o.Epochs;

        var state = new RunState();
        if (o.CheckpointFolder is not null && TrainingCheckpoint.TryLoad(o.CheckpointFolder) is { } checkpoint)
        {
            Restore(checkpoint, state, network, head, warmupHead, optimizer);
            _log($"Resuming from '{TrainingCheckpoint.PathIn(o.CheckpointFolder)}' after epoch {state.CompletedEpochs}, batch {state.BatchesInEpoch} (step {state.Step}).");
        }

        var clock = Stopwatch.StartNew();
        long imagesThisRun = 0, stepsThisRun = 0;
        for (int epoch = state.CompletedEpochs + 1; epoch <= o.Epochs && !state.Finished; epoch++)
        {
            var activeHead = warmupHead is not null && epoch <= o.SoftmaxWarmupEpochs ? warmupHead : head;
            if (warmupHead is not null && epoch == o.SoftmaxWarmupEpochs + 1 && state.BatchesInEpoch == 0)
                HandOver(warmupHead, head);
            network.Module.train();
            activeHead.train();
            foreach (var batch in BatchSource.Prefetch(source.Epoch(epoch, state.BatchesInEpoch, o.Cancellation), o.Cancellation))
            {
                double rate = rates.At(state.Step);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
                double loss = Step(network, activeHead, optimizer, parameters, batch, epoch, state.Step, rate);
                source.Release(batch);
                state.Step++;
                state.BatchesInEpoch++;
                state.EpochLossSum += loss;
                state.EpochSteps++;
                imagesThisRun += batch.Count;
                stepsThisRun++;
                double seconds = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                o.Progress?.Report(new TrainingProgress
                {
                    Epoch = epoch, Epochs = o.Epochs, Step = state.Step, TotalSteps = totalSteps, Loss = loss,
                    EpochLoss = state.EpochLossSum / state.EpochSteps, LearningRate = rate, ImagesPerSecond = imagesThisRun / seconds,
                    TimeRemaining = TimeSpan.FromSeconds(Math.Max(0, totalSteps - state.Step) * seconds / stepsThisRun),
                    ValidationAccuracy = state.History.LastOrDefault()?.ValidationAccuracy,
                });
                if (o.CheckpointFolder is not null && o.CheckpointEverySteps > 0 && state.Step % o.CheckpointEverySteps == 0)
                    Save(state, network, head, warmupHead, optimizer);
                if (o.Cancellation.IsCancellationRequested)
                {
                    if (o.CheckpointFolder is not null) Save(state, network, head, warmupHead, optimizer);
                    _log($"Training cancelled after step {state.Step}" + (o.CheckpointFolder is null ? "." : "; the checkpoint was written and Fit resumes from it."));
                    o.Cancellation.ThrowIfCancellationRequested();
                }
            }

            var summary = EndEpoch(epoch, state, network, head, validation);
            state.History.Add(summary);
            _log($"Epoch {epoch}/{o.Epochs}: loss {summary.Loss:G5}" +
                (summary.ValidationAccuracy is { } accuracy ? $", validation accuracy {accuracy:P2}, AUC {summary.ValidationAuc:F4}" : "") +
                (summary.ValidationLoss is { } validationLoss ? $", validation loss {validationLoss:G5}" : "") +
                $", {clock.Elapsed.TotalSeconds:F1} s.");
            bool stop = o.EarlyStoppingPatience > 0 && state.EpochsWithoutImprovement >= o.EarlyStoppingPatience;
            if (stop) _log($"Early stopping: no better validation accuracy for {state.EpochsWithoutImprovement} epochs.");
            state.Finished = stop; // a run that ended by its epoch count continues when more epochs are asked
            if (o.CheckpointFolder is not null) Save(state, network, head, warmupHead, optimizer);
        }

        if (o.KeepBestEpoch && state.BestNetwork.Length > 0)
        {
            using var reader = new BinaryReader(new MemoryStream(state.BestNetwork));
            network.Module.load(reader);
            int best = state.History.Where(h => h.ValidationAccuracy.HasValue).MaxBy(h => h.ValidationAccuracy!.Value)!.Epoch;
            _log($"Keeping the weights of epoch {best}, the best on the validation data.");
        }
        return state.History;
    }

    private double Step(EmbeddingNetwork network, FaceLossHead head, OptimizerHelper optimizer, List<Parameter> parameters,
        TrainingBatch batch, int epoch, long step, double rate)
    {
        using var scope = NewDisposeScope();
        var x = tensor(batch.Pixels, new long[] { batch.Count, _config.Channels, _config.Height, _config.Width }).to(_device);
        var y = tensor(batch.Labels).to(_device);
        var loss = head.forward(network.Module.forward(x), y);
        optimizer.zero_grad();
        loss.backward();
        double value = loss.ToDouble();
        double clip = _options.GradientClipNorm > 0 ? _options.GradientClipNorm : double.PositiveInfinity;
        double gradientNorm = nn.utils.clip_grad_norm_(parameters.Where(p => p.grad is not null), clip);
        if (!double.IsFinite(value) || !double.IsFinite(gradientNorm))
            throw new InvalidOperationException(
                $"Training diverged at step {step + 1} (epoch {epoch}), learning rate {rate:G4}: the " +
                (double.IsFinite(value) ? $"gradient norm is {gradientNorm}" : $"loss is {value}") + ". No weights were updated. Usual cures: " +
                "a lower LearningRate; a linear warm-up (WarmupEpochs); GradientClipNorm; or SoftmaxWarmupEpochs = 1 to train " +
                "plain softmax before a margin head, with a smaller scale or margin for small data sets.");
        optimizer.step();
        return value;
    }

    private EpochSummary EndEpoch(int epoch, RunState state, EmbeddingNetwork network, FaceLossHead head, TrainingData? validation)
    {
        double loss = state.EpochSteps == 0 ? double.NaN : state.EpochLossSum / state.EpochSteps;
        state.CompletedEpochs = epoch;
        state.BatchesInEpoch = 0;
        state.EpochLossSum = 0;
        state.EpochSteps = 0;
        if (validation is null) return new EpochSummary { Epoch = epoch, Loss = loss };

        var (accuracy, auc, validationLoss) = Validate(network, head, validation);
        if (accuracy > state.BestValidationAccuracy)
        {
            state.BestValidationAccuracy = accuracy;
            state.EpochsWithoutImprovement = 0;
            if (_options.KeepBestEpoch) state.BestNetwork = Serialize(network.Module.save);
        }
        else
        {
            state.EpochsWithoutImprovement++;
        }
        return new EpochSummary { Epoch = epoch, Loss = loss, ValidationAccuracy = accuracy, ValidationAuc = auc, ValidationLoss = validationLoss };
    }

    /// <summary>All-pairs verification of the validation identities (at most 3,000 images, a seeded sample beyond).</summary>
    private (double Accuracy, double Auc, double? Loss) Validate(EmbeddingNetwork network, FaceLossHead head, TrainingData validation)
    {
        var rows = Enumerable.Range(0, validation.Count).ToArray();
        if (rows.Length > 3000)
        {
            new Random(_seed).Shuffle(rows);
            rows = rows.Take(3000).Order().ToArray();
        }
        network.Module.eval();
        head.eval();
        var embeddings = new List<float[]>();
        double? loss = null;
        using (no_grad())
        {
            const int chunk = 128;
            for (int start = 0; start < rows.Length; start += chunk)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(chunk, rows.Length - start);
                var pixels = new float[count * validation.InputLength];
                for (int i = 0; i < count; i++)
                    Array.Copy(validation.Pixels, (long)rows[start + i] * validation.InputLength, pixels, (long)i * validation.InputLength, validation.InputLength);
                var output = nn.functional.normalize(network.Module.forward(tensor(pixels, new long[] { count, _config.Channels, _config.Height, _config.Width }).to(_device)), p: 2, dim: 1);
                var values = output.cpu().contiguous().data<float>().ToArray();
                for (int i = 0; i < count; i++) embeddings.Add(values.AsSpan(i * _config.EmbeddingSize, _config.EmbeddingSize).ToArray());
            }
            if (!_options.Loss.HasClassWeights) loss = PairHeadLoss(network, head, validation);
        }
        network.Module.train();
        head.train();
        var (scores, same) = PairScoreMath.AllPairs(embeddings, rows.Select(r => validation.Labels[r]).ToList());
        // Every same pair and as many different pairs (a seeded sample), so that chance is 50%.
        var sameRows = Enumerable.Range(0, scores.Count).Where(i => same[i]).ToList();
        var differentRows = Enumerable.Range(0, scores.Count).Where(i => !same[i]).ToArray();
        new Random(_seed).Shuffle(differentRows);
        var chosen = sameRows.Concat(differentRows.Take(Math.Max(sameRows.Count, 10))).Order().ToList();
        var metrics = VerificationMetrics.Compute(chosen.Select(i => scores[i]).ToList(), chosen.Select(i => same[i]).ToList(), folds: null, foldCount: 10);
        return (metrics.Accuracy, metrics.Auc, loss);
    }

    /// <summary>The pair or triplet head's mean loss on identity-balanced batches of the validation images.</summary>
    private double? PairHeadLoss(EmbeddingNetwork network, FaceLossHead head, TrainingData validation)
    {
        if (validation.Labels.GroupBy(l => l).Count(g => g.Count() >= 2) < 2 || validation.Labels.GroupBy(l => l).Any(g => g.Count() < 2)) return null;
        var sampler = new IdentityBalancedSampler(validation.Labels, Math.Max(2, _options.BatchSize / _options.ImagesPerIdentity), _options.ImagesPerIdentity, _options.Loss.HeadName);
        double sum = 0;
        int count = 0;
        foreach (var batch in sampler.Epoch(new Random(_seed)))
        {
            using var scope = NewDisposeScope();
            var pixels = new float[batch.Length * validation.InputLength];
            for (int i = 0; i < batch.Length; i++)
                Array.Copy(validation.Pixels, (long)batch[i] * validation.InputLength, pixels, (long)i * validation.InputLength, validation.InputLength);
            var x = tensor(pixels, new long[] { batch.Length, _config.Channels, _config.Height, _config.Width }).to(_device);
            var y = tensor(batch.Select(r => (long)validation.Labels[r]).ToArray()).to(_device);
            sum += head.forward(network.Module.forward(x), y).ToDouble();
            count++;
        }
        return count == 0 ? null : sum / count;
    }

    /// <summary>After the softmax warm-up, the margin head starts from the class weights softmax learned.</summary>
    private void HandOver(FaceLossHead warmup, FaceLossHead head)
    {
        if (head.Weight is null || warmup.Weight is null) return;
        int rowsPerClass = (int)(head.Weight.shape[0] / warmup.Weight.shape[0]);
        using (no_grad())
            head.SetWeight(warmup.Weight.repeat_interleave(rowsPerClass, 0));
        _log($"Softmax warm-up done: {head.HeadOptions.HeadName} starts from the softmax class weights.");
    }

    private void Save(RunState state, EmbeddingNetwork network, FaceLossHead head, FaceLossHead? warmup, OptimizerHelper optimizer)
    {
        new TrainingCheckpoint
        {
            Fingerprint = Fingerprint, CompletedEpochs = state.CompletedEpochs, BatchesInEpoch = state.BatchesInEpoch, Step = state.Step,
            EpochLossSum = state.EpochLossSum, EpochSteps = state.EpochSteps, Finished = state.Finished,
            BestValidationAccuracy = state.BestValidationAccuracy, EpochsWithoutImprovement = state.EpochsWithoutImprovement,
            History = state.History, Network = Serialize(network.Module.save),
            Heads = Serialize(w => { head.save(w); warmup?.save(w); }),
            Optimizer = Serialize(optimizer.save_state_dict),
            RandomState = torch.random.get_rng_state().data<byte>().ToArray(),
            BestNetwork = state.BestNetwork,
        }.Save(_options.CheckpointFolder!);
    }

    private void Restore(TrainingCheckpoint checkpoint, RunState state, EmbeddingNetwork network, FaceLossHead head, FaceLossHead? warmup, OptimizerHelper optimizer)
    {
        if (checkpoint.Fingerprint != Fingerprint)
            throw new InvalidOperationException(
                $"The checkpoint in '{_options.CheckpointFolder}' belongs to another training run ({checkpoint.Fingerprint}); these options give ({Fingerprint}). " +
                "Use another CheckpointFolder, or delete the checkpoint to train from the start.");
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Network))) network.Module.load(reader);
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Heads)))
        {
            head.load(reader);
            warmup?.load(reader);
        }
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer))) optimizer.load_state_dict(reader);
        using (var rng = tensor(checkpoint.RandomState)) torch.random.set_rng_state(rng);
        state.CompletedEpochs = checkpoint.CompletedEpochs;
        state.BatchesInEpoch = checkpoint.BatchesInEpoch;
        state.Step = checkpoint.Step;
        state.EpochLossSum = checkpoint.EpochLossSum;
        state.EpochSteps = checkpoint.EpochSteps;
        state.Finished = checkpoint.Finished;
        state.BestValidationAccuracy = checkpoint.BestValidationAccuracy;
        state.EpochsWithoutImprovement = checkpoint.EpochsWithoutImprovement;
        state.History = checkpoint.History;
        state.BestNetwork = checkpoint.BestNetwork;
    }

    private static byte[] Serialize(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) write(writer);
        return stream.ToArray();
    }

    private static byte[] Serialize(Func<BinaryWriter, IList<string>?, nn.Module> save) => Serialize(w => save(w, null));

    /// <summary>Where the run stands.</summary>
    private sealed class RunState
    {
        public int CompletedEpochs;
        public int BatchesInEpoch;
        public long Step;
        public double EpochLossSum;
        public int EpochSteps;
        public bool Finished;
        public double BestValidationAccuracy = double.NegativeInfinity;
        public int EpochsWithoutImprovement;
        public List<EpochSummary> History = new();
        public byte[] BestNetwork = Array.Empty<byte>();
    }

    /// <summary>The user's backbone factory, if any.</summary>
    private sealed record BackboneFactoryHolder(Backbones.BackboneFactory? Factory);
}
