using System.Diagnostics;
using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>The same training by hand: the network, W, the ArcFace arithmetic and SGD on tensors.</summary>
internal sealed class HandWrittenLoop : IDisposable
{
    private const double Margin = 0.5, Scale = 64;
    private readonly TrainingSpeed.Settings _s;
    private readonly nn.Module<Tensor, Tensor> _network;
    private readonly TorchSharp.Modules.Parameter _weight;
    private readonly optim.Optimizer _sgd;
    private readonly Tensor _images, _targets;

    /// <param name="s">The network, batch, identities and embedding size.</param>
    /// <param name="pixels">The images, 3 x size x size values each, one after another.</param>
    /// <param name="labels">The class of each image.</param>
    /// <param name="shareMemory">Whether the image tensor uses the array's memory (for memory figures) instead of a copy in LibTorch's aligned memory (for speed).</param>
    public HandWrittenLoop(TrainingSpeed.Settings s, float[] pixels, long[] labels, bool shareMemory = false)
    {
        _s = s;
        torch.manual_seed(1);
        _network = BackboneCatalog.Create(s.Backbone, 3, s.Size, s.Size, s.EmbeddingSize, 0, 0, 0, null);
        // W as the library's classifier heads start it: uniform in [-1/sqrt(D), 1/sqrt(D)].
        _weight = new TorchSharp.Modules.Parameter((rand(s.Identities, s.EmbeddingSize) * 2 - 1) / Math.Sqrt(s.EmbeddingSize));
        _sgd = optim.SGD(_network.parameters().Append(_weight), 0.1, 0.9, 0, 5e-4);
        // For speed in LibTorch's own (64-byte aligned) memory, as the trainer's batches are.
        using (var shared = from_array(pixels))
            _images = shareMemory ? shared.view(labels.Length, 3, s.Size, s.Size) : shared.view(labels.Length, 3, s.Size, s.Size).clone();
        _targets = tensor(labels);
        _network.train();
    }

    /// <summary>Trains on batch <paramref name="index"/>; returns the seconds it took.</summary>
    public double Step(int index)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var x = _images.narrow(0, index * _s.Batch, _s.Batch);
        var y = _targets.narrow(0, index * _s.Batch, _s.Batch);
        var embeddings = _network.forward(x);
        // ArcFace: cos(theta + m) on the target, t - m sin(pi - m) where theta + m would pass pi.
        var cosine = nn.functional.normalize(embeddings, p: 2, dim: 1).mm(nn.functional.normalize(_weight, p: 2, dim: 1).t());
        var t = cosine.gather(1, y.unsqueeze(1));
        var sine = (1 - t * t).clamp_min(1e-12).sqrt();
        var phi = where(t > Math.Cos(Math.PI - Margin), t * Math.Cos(Margin) - sine * Math.Sin(Margin), t - Margin * Math.Sin(Math.PI - Margin));
        var loss = nn.functional.cross_entropy(cosine.scatter(1, y.unsqueeze(1), phi) * Scale, y);
        _sgd.zero_grad();
        loss.backward();
        _sgd.step();
        loss.item<float>();
        return clock.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        _sgd.Dispose();
        _network.Dispose();
        _weight.Dispose();
        _images.Dispose();
        _targets.Dispose();
    }
}
