using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using TorchSharp;

namespace Microsoft.ML.FaceLoss.Tests.Training;

[Collection(TorchCollection.Name)]
public sealed class DeterminismAndLeakTests
{
    private static float[] FirstEmbedding(MLContext ml, ITransformer model, IDataView data)
        => ml.Data.CreateEnumerable<Output>(model.Transform(data), reuseRowObject: false).First().Embedding;

    [Fact]
    public void TwoRunsWithOneSeedGiveEqualEmbeddings()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Load(ml);
        var a = SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions()).Fit(data);
        var b = SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions()).Fit(data);
        Assert.Equal(FirstEmbedding(ml, a, data), FirstEmbedding(ml, b, data));
    }

    [Fact]
    public void AnotherSeedGivesOtherEmbeddings()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Load(ml);
        var options = SyntheticImages.TinyOptions();
        var a = SyntheticImages.Pipeline(ml, options).Fit(data);
        options.Seed = 12;
        var b = SyntheticImages.Pipeline(ml, options).Fit(data);
        Assert.NotEqual(FirstEmbedding(ml, a, data), FirstEmbedding(ml, b, data));
    }

    [Fact]
    public void TrainingLeaksNoTensorsPerBatch()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Load(ml, identities: 6, perIdentity: 10);
        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;
        using (SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions(epochs: 1)).Fit(data).LastTransformer) { }
        long afterShort = statistics.ThreadTotalLiveCount;
        using (SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions(epochs: 8)).Fit(data).LastTransformer) { }
        long afterLong = statistics.ThreadTotalLiveCount;
        // Eight times the batches must not leave more live tensors than one epoch does.
        Assert.Equal(afterShort - before, afterLong - afterShort);
    }

    [Fact]
    public void EmbeddingManyImagesLeaksNoTensors()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Load(ml);
        var model = SyntheticImages.Pipeline(ml, SyntheticImages.TinyOptions(epochs: 1)).Fit(data);
        var image = SyntheticImages.Rows(1, 1)[0].Features;
        model.LastTransformer.Embed(image);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 200; i++) model.LastTransformer.Embed(image);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private sealed class Output
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
