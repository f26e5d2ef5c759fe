using System.Diagnostics;
using Microsoft.ML.FaceLoss.Embedding;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>The training loop: shuffled mini-batches, backbone forward, head loss, SGD step.</summary>
internal static class TrainingLoop
{
    public static (EmbeddingNetwork Network, IReadOnlyList<double> EpochLosses) Run(EmbeddingNetworkConfig config,
        FaceEmbeddingTrainer.Options options, TrainingData data, int seed, Action<string> log)
    {
        lock (TorchRuntime.TrainingLock)
        {
            torch.manual_seed(seed);
            var network = EmbeddingNetwork.Create(config);
            try
            {
                var losses = Train(network, config, options, data, seed, log);
                network.Module.eval();
                return (network, losses);
            }
            catch
            {
                network.Dispose();
                throw;
            }
        }
    }

    private static List<double> Train(EmbeddingNetwork network, EmbeddingNetworkConfig config,
        FaceEmbeddingTrainer.Options options, TrainingData data, int seed, Action<string> log)
    {
        using var head = options.Loss.CreateHead(data.ClassCount, config.EmbeddingSize);
        var parameters = network.Module.parameters().Concat(head.parameters()).ToList();
        using var optimizer = optim.SGD(parameters, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay);

        var random = new Random(seed);
        int length = data.InputLength;
        var sampler = BatchSampler.For(options, data.Labels);
        var losses = new List<double>();
        long step = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            network.Module.train();
            head.train();
            double sum = 0;
            int steps = 0;
            foreach (var batch in sampler.Epoch(random))
            {
                int size = batch.Length;
                var pixels = new float[size * length];
                var labels = new long[size];
                for (int i = 0; i < size; i++)
                {
                    Array.Copy(data.Pixels, (long)batch[i] * length, pixels, (long)i * length, length);
                    labels[i] = data.Labels[batch[i]];
                }

                using var scope = NewDisposeScope();
                var x = tensor(pixels, new long[] { size, config.Channels, config.Height, config.Width });
                var y = tensor(labels);
                var loss = head.forward(network.Module.forward(x), y);
                optimizer.zero_grad();
                loss.backward();
                double value = loss.ToDouble();
                if (!double.IsFinite(value))
                    throw new InvalidOperationException(
                        $"Training diverged: the loss of step {step + 1} (epoch {epoch}) is {value} at learning rate {options.LearningRate}. " +
                        "Lower the learning rate, or start with plain softmax for an epoch before a margin head. No weights were written.");
                optimizer.step();
                sum += value;
                steps++;
                step++;
            }
            double mean = steps == 0 ? double.NaN : sum / steps;
            losses.Add(mean);
            log($"Epoch {epoch}/{options.Epochs}: mean loss {mean:G5} over {steps} steps, {clock.Elapsed.TotalSeconds:F1} s.");
        }
        return losses;
    }
}
