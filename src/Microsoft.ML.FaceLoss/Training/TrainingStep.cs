using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One optimisation step: forward pass of the network and the head, backward pass, gradient clipping,
/// and the guard that stops the run, before any weight changes, when the loss or the gradients stop
/// being finite.
/// </summary>
internal sealed class TrainingStep
{
    private readonly EmbeddingNetwork _network;
    private readonly OptimizerHelper _optimizer;
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly double _clipNorm;

    public TrainingStep(EmbeddingNetwork network, OptimizerHelper optimizer, IReadOnlyList<Parameter> parameters, double gradientClipNorm)
    {
        _network = network;
        _optimizer = optimizer;
        _parameters = parameters;
        _clipNorm = gradientClipNorm > 0 ? gradientClipNorm : double.PositiveInfinity;
    }

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public void SetLearningRate(double rate)
    {
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = rate;
    }

    /// <summary>Trains on <paramref name="batch"/> with <paramref name="head"/>; returns the batch's loss.</summary>
    /// <exception cref="InvalidOperationException">The loss or the gradient norm is not finite (no weight was updated).</exception>
    public double Run(FaceLossHead head, TrainingBatch batch, int epoch, long step, double rate)
    {
        var config = _network.Config;
        using var scope = NewDisposeScope();
        var x = PixelTensors.Images(batch.Pixels, batch.Count, config.Channels, config.Height, config.Width, _network.Device);
        var y = tensor(batch.Labels).to(_network.Device);
        var loss = head.forward(_network.Module.forward(x), y);
        _optimizer.zero_grad();
        loss.backward();
        double value = loss.ToDouble();
        double gradientNorm = double.IsPositiveInfinity(_clipNorm) ? GradientNorm() : nn.utils.clip_grad_norm_(_parameters.Where(p => p.grad is not null), _clipNorm);
        if (!double.IsFinite(value) || !double.IsFinite(gradientNorm))
            throw new InvalidOperationException(
                $"Training diverged at step {step + 1} (epoch {epoch}), learning rate {rate:G4}: the " +
                (double.IsFinite(value) ? $"gradient norm is {gradientNorm}" : $"loss is {value}") + ". No weights were updated. Usual cures: " +
                "a lower LearningRate; a linear warm-up (WarmupEpochs); GradientClipNorm; or SoftmaxWarmupEpochs = 1 to train " +
                "plain softmax before a margin head, with a smaller scale or margin for small data sets.");
        _optimizer.step();
        return value;
    }

    /// <summary>
    /// The global L2 norm of the gradients, as <c>clip_grad_norm_</c> computes it, without its pass
    /// that multiplies every gradient by a clip factor of 1 when clipping is off.
    /// </summary>
    private double GradientNorm()
    {
        using var scope = NewDisposeScope();
        var norms = _parameters.Select(p => p.grad).OfType<Tensor>().Select(g => g.norm()).ToArray();
        return norms.Length == 0 ? 0 : stack(norms).norm().ToDouble();
    }
}
