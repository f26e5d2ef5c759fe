using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Training;

/// <summary>The same images give the same embedding bits on every call, whatever else the process does.</summary>
[Collection(TorchCollection.Name)]
public sealed class ReproducibilityTests
{
    /// <summary>
    /// MKL chooses code paths by the memory alignment of its operands unless asked for conditional
    /// numerical reproducibility (TorchRuntime sets MKL_CBWR=AUTO); then the same matrix product
    /// differed in the last bits from call to call while other threads allocated.
    /// </summary>
    [Fact]
    public async Task EmbeddingTheSameImagesGivesTheSameBitsWhileOtherThreadsAllocate()
    {
        // Matrix products are where MKL's paths differ: a flatten-linear network (the custom backbone of TrainingRunTests).
        var factory = new LinearBackbone { Settings = "4" };
        var config = new EmbeddingNetworkConfig(FaceBackbone.Custom, 1, 8, 8, EmbeddingSize: 8, BaseWidth: 0, DropoutRate: 0,
            CustomType: typeof(LinearBackbone).AssemblyQualifiedName, CustomSettings: "4");
        manual_seed(5);
        using var network = EmbeddingNetwork.Create(config, factory);
        const int rows = 36, size = 8;
        var random = new Random(5);
        var pixels = Enumerable.Range(0, rows * config.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var first = new float[rows * size];
        network.Embed(pixels, rows, first);

        using var stop = new CancellationTokenSource();
        var noise = Task.Run(() =>
        {
            // Other work in the process: tensors of odd sizes move the allocator's addresses around.
            for (int i = 1; !stop.IsCancellationRequested; i++)
            {
                using var scope = NewDisposeScope();
                var a = rand(37 + i % 29, 101);
                _ = a.mm(a.t()).sum().item<float>();
                _ = new byte[1 + (i * 7919) % 100_000];
            }
        });
        try
        {
            for (int call = 0; call < 60; call++)
            {
                var again = new float[rows * size];
                network.Embed(pixels, rows, again);
                Assert.True(first.AsSpan().SequenceEqual(again), $"Call {call} gave other bits than the first.");
            }
        }
        finally
        {
            stop.Cancel();
            await noise;
        }
    }
}
