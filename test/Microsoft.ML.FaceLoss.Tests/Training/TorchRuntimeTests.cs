using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Training;

[Collection(TorchCollection.Name)]
public sealed class TorchRuntimeTests
{
    [Fact]
    public void TorchLoadsAndRunsAForwardAndBackwardPass()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(4, 3);
        var x = randn(5, 4);
        var loss = nn.functional.cross_entropy(layer.forward(x), tensor(new long[] { 0, 1, 2, 0, 1 }));
        loss.backward();
        Assert.True(double.IsFinite(loss.ToDouble()));
        Assert.True(layer.weight!.grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void MLNetTorchSharpAndThisLibraryLiveInOneApplication()
    {
        var ml = new MLContext(seed: 1);
        // ML.NET's own TorchSharp trainer: made (Fit would download weights, impossible offline).
        var textTrainer = ml.MulticlassClassification.Trainers.TextClassification(labelColumnName: "Label", sentence1ColumnName: "Text");
        Assert.NotNull(textTrainer);
        // One TorchSharp for both: ML.NET's package was built against 0.102, the application runs 0.107.
        var torchSharp = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "TorchSharp").ToList();
        Assert.Single(torchSharp);
        Assert.Equal(new Version(0, 107, 0, 0), torchSharp[0].GetName().Version);

        // ... and ours trains and embeds in the same process.
        var data = SyntheticImages.Load(ml);
        var model = SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions(epochs: 1)).Fit(data);
        var embedding = model.LastTransformer.Embed(SyntheticImages.Rows(1, 1)[0].Features);
        Assert.Equal(8, embedding.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 5);
        // ML.NET's package was compiled against an older TorchSharp than the one both of them run on.
        var mlNetsTorchSharp = typeof(TorchSharpCatalog).Assembly.GetReferencedAssemblies().Single(a => a.Name == "TorchSharp");
        Assert.True(mlNetsTorchSharp.Version < torchSharp[0].GetName().Version, $"ML.NET's TorchSharp {mlNetsTorchSharp.Version}, loaded {torchSharp[0].GetName().Version}");
    }
}
