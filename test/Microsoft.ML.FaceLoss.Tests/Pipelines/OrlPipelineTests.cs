using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>folder -> load -> resize -> pixels -> train -> embed -> save -> load -> embed, on ORL.</summary>
[Collection(TorchCollection.Name)]
public sealed class OrlPipelineTests
{
    private readonly OrlModelFixture _fixture;
    private readonly ITestOutputHelper _output;

    public OrlPipelineTests(OrlModelFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    private List<EmbeddedFace> EmbedUnseen(ITransformer model)
        => _fixture.Ml.Data.CreateEnumerable<EmbeddedFace>(model.Transform(_fixture.Unseen), reuseRowObject: false).ToList();

    [OrlFact]
    public void TrainingLowersTheLoss()
    {
        var losses = _fixture.Embedder.EpochLosses;
        Assert.Equal(12, losses.Count);
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }

    [OrlFact]
    public void UnseenSubjectsVerifyFarBetterThanChance()
    {
        var faces = EmbedUnseen(_fixture.Model);
        Assert.Equal(100, faces.Count);
        double auc = VerificationMath.AllPairsAuc(faces.Select(f => f.Embedding).ToList(), faces.Select(f => f.Identity).ToList());
        _output.WriteLine($"ORL unseen s31..s40, all 4,950 pairs: AUC {auc:F4}; epoch losses {string.Join(", ", _fixture.Embedder.EpochLosses.Select(l => l.ToString("F3")))}");
        Assert.True(auc > 0.85, $"all-pairs AUC of unseen s31..s40 is {auc:F4}; chance is 0.5");
    }

    [OrlFact]
    public void EmbeddingsAreNormalizedAndOfTheConfiguredSize()
    {
        var faces = EmbedUnseen(_fixture.Model);
        foreach (var face in faces)
        {
            Assert.Equal(64, face.Embedding.Length);
            Assert.Equal(1.0, Math.Sqrt(face.Embedding.Sum(v => (double)v * v)), 5);
        }
        var column = _fixture.Model.Transform(_fixture.Unseen).Schema["Embedding"];
        var type = Assert.IsType<Microsoft.ML.Data.VectorDataViewType>(column.Type);
        Assert.Equal(64, type.Size);
    }

    [OrlFact]
    public void SaveAndLoadGiveTheSameEmbeddings()
    {
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-orl-{Guid.NewGuid():N}.zip");
        try
        {
            _fixture.Ml.Model.Save(_fixture.Model, _fixture.TrainingSchema, path);
            var fresh = new MLContext(seed: 5);
            var loaded = fresh.Model.Load(path, out var schema);
            Assert.NotNull(schema.GetColumnOrNull("ImagePath"));

            var before = EmbedUnseen(_fixture.Model);
            var after = fresh.Data.CreateEnumerable<EmbeddedFace>(loaded.Transform(_fixture.Unseen), reuseRowObject: false).ToList();
            Assert.Equal(before.Count, after.Count);
            double maxDifference = before.Zip(after).Max(p => p.First.Embedding.Zip(p.Second.Embedding).Max(v => Math.Abs(v.First - v.Second)));
            Assert.True(maxDifference < 1e-6, $"max abs difference {maxDifference}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [OrlFact]
    public void LoadedModelKnowsItsHeadAndShape()
    {
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-orl-{Guid.NewGuid():N}.zip");
        try
        {
            _fixture.Ml.FaceRecognition().SaveModel(_fixture.Model, _fixture.TrainingSchema, path);
            var loaded = (TransformerChain<ITransformer>)new MLContext().FaceRecognition().LoadModel(path, out _);
            var embedder = Assert.IsType<FaceLoss.Embedding.FaceEmbeddingTransformer>(loaded.Last());
            var head = Assert.IsType<ArcFaceLoss.Options>(embedder.TrainedWith);
            Assert.Equal(16, head.Scale);
            Assert.Equal(0.2, head.Margin);
            Assert.Equal((1, Orl.Height, Orl.Width, 64), (embedder.ImageChannels, embedder.ImageHeight, embedder.ImageWidth, embedder.EmbeddingSize));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [OrlFact]
    public void PredictionEngineMatchesBatchedTransform()
    {
        var batched = EmbedUnseen(_fixture.Model);
        var engine = _fixture.Ml.Model.CreatePredictionEngine<FaceImageInput, EmbeddingOutput>(_fixture.Model);
        foreach (var face in batched.Take(12))
        {
            var single = engine.Predict(new FaceImageInput { ImagePath = face.ImagePath, Identity = face.Identity });
            Assert.Equal(face.Embedding.Length, single.Embedding.Length);
            Assert.True(face.Embedding.Zip(single.Embedding).All(v => Math.Abs(v.First - v.Second) < 1e-5));
        }
    }

    [OrlFact]
    public void ConcurrentPredictionEnginesAgree()
    {
        var faces = EmbedUnseen(_fixture.Model).Take(16).ToList();
        var results = new float[faces.Count][];
        Parallel.For(0, faces.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var engine = _fixture.Ml.Model.CreatePredictionEngine<FaceImageInput, EmbeddingOutput>(_fixture.Model);
            results[i] = engine.Predict(new FaceImageInput { ImagePath = faces[i].ImagePath, Identity = faces[i].Identity }).Embedding;
        });
        for (int i = 0; i < faces.Count; i++)
            Assert.True(faces[i].Embedding.Zip(results[i]).All(v => Math.Abs(v.First - v.Second) < 1e-5));
    }

    public sealed class FaceImageInput
    {
        public string ImagePath { get; set; } = "";

        public string Identity { get; set; } = "";
    }

    public sealed class EmbeddingOutput
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
