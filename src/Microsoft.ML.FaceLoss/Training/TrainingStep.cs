using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One optimisation step: forward and backward passes of this rank's micro-batches (their gradients
/// accumulate), the gradients averaged over the ranks, gradient clipping, and the guard that stops the
/// run, before any weight changes, when the loss or the gradients stop being finite. With sharded
/// class weights the embeddings of all ranks meet in the <see cref="ShardedClassifier"/>, and each
/// rank's class weights get their gradient there, never averaged.
/// </summary>
internal sealed class TrainingStep
{
    private readonly EmbeddingNetwork _network;
    private readonly OptimizerHelper _optimizer;
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly IReadOnlyList<Parameter> _replicated;
    private readonly IReadOnlyList<Parameter> _sharded;
    private readonly double _clipNorm;
    private readonly ICommunicator _communicator;
    private float[]? _gradientBuffer;

    /// <param name="network">The network.</param>
    /// <param name="optimizer">The optimizer over <paramref name="parameters"/>.</param>
    /// <param name="parameters">Every parameter that learns.</param>
    /// <param name="sharded">Those of <paramref name="parameters"/> that are this rank's shard (not averaged over ranks); empty without sharding.</param>
    /// <param name="gradientClipNorm">The largest global gradient norm; 0 for none.</param>
    /// <param name="communicator">The ranks.</param>
    public TrainingStep(EmbeddingNetwork network, OptimizerHelper optimizer, IReadOnlyList<Parameter> parameters, IReadOnlyList<Parameter> sharded,
        double gradientClipNorm, ICommunicator communicator)
    {
        _network = network;
        _optimizer = optimizer;
        _parameters = parameters;
        _sharded = sharded;
        _replicated = parameters.Where(p => !sharded.Any(s => s.Handle == p.Handle)).ToList();
        _clipNorm = gradientClipNorm > 0 ? gradientClipNorm : double.PositiveInfinity;
        _communicator = communicator;
    }

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public void SetLearningRate(double rate)
    {
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = rate;
    }

    /// <summary>
    /// Trains on this rank's micro-batches <paramref name="batches"/> with <paramref name="head"/> (or,
    /// with sharded class weights, <paramref name="sharded"/>); returns the step's loss, the mean over
    /// every rank's micro-batches.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss or the gradient norm is not finite (no weight was updated).</exception>
    public double Run(FaceLossHead head, ShardedClassifier? sharded, IReadOnlyList<TrainingBatch> batches, int epoch, long step, double rate)
    {
        using var scope = NewDisposeScope(); // also the gradient handles that zero_grad, clipping and the optimizer step read
        _optimizer.zero_grad();
        double value = 0;
        foreach (var batch in batches)
            value += sharded is null ? Accumulate(head, batch, batches.Count) : AccumulateSharded(sharded, batch, batches.Count);
        value /= batches.Count;
        if (_communicator.Size > 1)
        {
            var mean = new[] { value / _communicator.Size };
            _communicator.AllReduce(mean, ReduceOperation.Sum);
            value = mean[0];
            _communicator.AverageGradients(_replicated, ref _gradientBuffer);
        }

        double gradientNorm = _sharded.Count > 0 ? ClipSharded()
            : double.IsPositiveInfinity(_clipNorm) ? GradientNorm(_parameters)
            : nn.utils.clip_grad_norm_(_parameters.Where(p => p.grad is not null), _clipNorm);
        if (!double.IsFinite(value) || !double.IsFinite(gradientNorm))
            throw new InvalidOperationException(
                $"Training diverged at step {step + 1} (epoch {epoch}), learning rate {rate:G4}: the " +
                (double.IsFinite(value) ? $"gradient norm is {gradientNorm}" : $"loss is {value}") + ". No weights were updated. Usual cures: " +
                "a lower LearningRate; a linear warm-up (WarmupEpochs); GradientClipNorm; or SoftmaxWarmupEpochs = 1 to train " +
                "plain softmax before a margin head, with a smaller scale or margin for small data sets.");
        _optimizer.step();
        return value;
    }

    /// <summary>Forward and backward pass of one micro-batch of <paramref name="of"/>; returns its loss.</summary>
    private double Accumulate(FaceLossHead head, TrainingBatch batch, int of)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Tensors(batch);
        var loss = head.forward(_network.Module.forward(x), y);
        (of == 1 ? loss : loss / of).backward();
        return loss.ToDouble();
    }

    /// <summary>
    /// One micro-batch with sharded class weights: this rank's embeddings join every rank's in the
    /// sharded head; the gradient of the gathered embeddings, summed over ranks, flows back into this
    /// rank's rows (times N, as the backbone's gradients are then averaged over the N ranks).
    /// </summary>
    private double AccumulateSharded(ShardedClassifier sharded, TrainingBatch batch, int of)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Tensors(batch);
        var embeddings = _network.Module.forward(x);
        var (gathered, offset) = _communicator.AllGatherRows(embeddings.detach());
        gathered.requires_grad_(true);
        var (surrogate, loss) = sharded.Forward(gathered, _communicator.AllGatherLabels(y));
        (of == 1 ? surrogate : surrogate / of).backward();
        var gradient = gathered.grad!.contiguous();
        _communicator.AllReduce(gradient, ReduceOperation.Sum);
        embeddings.backward(new[] { gradient.narrow(0, offset, batch.Count) * _communicator.Size });
        return loss;
    }

    /// <summary>The batch's images and labels on the network's device.</summary>
    private (Tensor Images, Tensor Labels) Tensors(TrainingBatch batch)
    {
        var config = _network.Config;
        return (PixelTensors.Images(batch.Pixels, batch.Count, config.Channels, config.Height, config.Width, _network.Device),
            tensor(batch.Labels).to(_network.Device));
    }

    /// <summary>The global gradient norm over the replicated parameters and every rank's shard, with clipping where it is set.</summary>
    private double ClipSharded()
    {
        double replicated = GradientNorm(_replicated);
        double shard = GradientNorm(_sharded);
        var squares = new[] { shard * shard };
        _communicator.AllReduce(squares, ReduceOperation.Sum);
        double norm = Math.Sqrt(replicated * replicated + squares[0]);
        double factor = _clipNorm / (norm + 1e-6); // as clip_grad_norm_
        if (factor < 1 && double.IsFinite(norm))
        {
            using var noGrad = no_grad();
            foreach (var gradient in _parameters.Select(p => p.grad).OfType<Tensor>()) gradient.mul_(factor);
        }
        return norm;
    }

    /// <summary>
    /// The L2 norm of the gradients of <paramref name="parameters"/>, as <c>clip_grad_norm_</c> computes it,
    /// without its pass that multiplies every gradient by a clip factor of 1 when clipping is off.
    /// </summary>
    private static double GradientNorm(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        var norms = parameters.Select(p => p.grad).OfType<Tensor>().Select(g => g.norm()).ToArray();
        return norms.Length == 0 ? 0 : stack(norms).norm().ToDouble();
    }
}
