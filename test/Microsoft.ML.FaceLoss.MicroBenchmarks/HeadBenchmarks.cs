using BenchmarkDotNet.Attributes;
using Microsoft.ML.FaceLoss.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.MicroBenchmarks;

/// <summary>
/// One forward and backward pass of each loss head: a batch of 256 embeddings of 512 values, 10,000
/// identities (the classifier heads' weights are 10,000 x 512), 64 identities x 4 images per batch so
/// that the pair and triplet heads find pairs.
/// </summary>
[MemoryDiagnoser]
public class HeadBenchmarks
{
    private const int Batch = 256, Dimension = 512, Classes = 10_000, PerIdentity = 4;
    private FaceLossHead _head = null!;
    private Tensor _embeddings = null!;
    private Tensor _labels = null!;

    public static IEnumerable<string> Heads => FaceLossHeads.Names;

    [ParamsSource(nameof(Heads))]
    public string Head { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(1);
        _head = FaceLossHeads.CreateOptions(Head).CreateHead(Classes, Dimension);
        _head.train();
        _embeddings = randn(Batch, Dimension).requires_grad_(true);
        var random = new Random(1);
        var identities = Enumerable.Range(0, Batch / PerIdentity).Select(_ => (long)random.Next(Classes)).ToArray();
        _labels = tensor(Enumerable.Range(0, Batch).Select(i => identities[i / PerIdentity]).ToArray());
    }

    [Benchmark]
    public float ForwardBackward()
    {
        using var scope = NewDisposeScope();
        var loss = _head.forward(_embeddings, _labels);
        loss.backward();
        _embeddings.grad?.zero_();
        foreach (var p in _head.parameters()) p.grad?.zero_();
        return loss.item<float>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _head.Dispose();
        _embeddings.Dispose();
        _labels.Dispose();
    }
}
