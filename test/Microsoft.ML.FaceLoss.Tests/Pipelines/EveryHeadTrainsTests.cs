using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using Xunit.Abstractions;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>
/// Every head trains through an mlContext pipeline on ORL s1..s30: a few epochs lower its loss,
/// the unseen s31..s40 verify above chance, and the model survives save and load knowing its head.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class EveryHeadTrainsTests
{
    private readonly OrlModelFixture _fixture;
    private readonly ITestOutputHelper _output;

    public EveryHeadTrainsTests(OrlModelFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    /// <summary>The settings each head trains with on ORL: the library's small-data preset.</summary>
    public static FaceLossOptions OrlSettings(string head) => FaceLossHeads.CreateSmallDataOptions(head);

    public static IEnumerable<object[]> Heads() => FaceLossHeads.Names.Select(n => new object[] { n });

    [OrlTheory]
    [MemberData(nameof(Heads))]
    public void HeadTrainsVerifiesUnseenPeopleAndSurvivesSaveLoad(string head)
    {
        var ml = _fixture.Ml;
        var options = new FaceEmbeddingTrainer.Options
        {
            EmbeddingSize = 64,
            BackboneWidth = 8,
            Loss = OrlSettings(head),
            Epochs = 8,
            BatchSize = 32,
            LearningRate = 0.05,
            Seed = 3,
        };
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Identity")
            .Append(ml.FaceRecognition().Trainers.Embedding(options))
            .Fit(_fixture.PreprocessedTraining);
        var losses = model.LastTransformer.EpochLosses;
        var faces = ml.Data.CreateEnumerable<EmbeddedFace>(model.Transform(_fixture.PreprocessedUnseen), reuseRowObject: false).ToList();
        double auc = VerificationMath.AllPairsAuc(faces.Select(f => f.Embedding).ToList(), faces.Select(f => f.Identity).ToList());
        _output.WriteLine($"{head}: loss {losses[0]:F3} -> {losses[^1]:F3}; unseen AUC {auc:F4}");
        Assert.True(losses[^1] < losses[0], $"{head}: loss went from {losses[0]} to {losses[^1]}");
        Assert.True(auc > 0.75, $"{head}: unseen AUC {auc:F4}");

        string path = Path.Combine(Path.GetTempPath(), $"faceloss-{head}-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, _fixture.PreprocessedTraining.Schema, path);
            var loaded = (TransformerChain<ITransformer>)new MLContext().Model.Load(path, out _);
            var embedder = Assert.IsType<FaceEmbeddingTransformer>(loaded.Last());
            Assert.Equal(options.Loss.ToString(), embedder.TrainedWith!.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
