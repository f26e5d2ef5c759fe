using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>End to end: the model trained on ORL s1..s30 verifies, identifies and retrieves the unseen s31..s40.</summary>
[Collection(TorchCollection.Name)]
public sealed class OrlVerificationTests : IDisposable
{
    private readonly OrlModelFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-orl-pairs-" + Guid.NewGuid().ToString("N"));

    public OrlVerificationTests(OrlModelFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>All 450 same pairs of s31..s40 and 450 seeded different pairs, as a pairs CSV.</summary>
    private string WritePairs()
    {
        var images = Enumerable.Range(31, 10).SelectMany(s => Enumerable.Range(1, 10).Select(i => (Subject: s, Path: Path.Combine(TestData.OrlRoot, $"s{s}", $"{i}.pgm")))).ToList();
        var lines = new List<string> { "path1,path2,same" };
        for (int i = 0; i < images.Count; i++)
            for (int j = i + 1; j < images.Count; j++)
                if (images[i].Subject == images[j].Subject) lines.Add($"{images[i].Path},{images[j].Path},1");
        var random = new Random(3);
        var different = new HashSet<(int, int)>();
        while (different.Count < 450)
        {
            int a = random.Next(images.Count), b = random.Next(images.Count);
            if (images[a].Subject != images[b].Subject) different.Add((Math.Min(a, b), Math.Max(a, b)));
        }
        lines.AddRange(different.Select(p => $"{images[p.Item1].Path},{images[p.Item2].Path},0"));
        string path = Path.Combine(_folder, "orl-unseen-pairs.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [OrlFact]
    public void UnseenPairsVerifyWellThroughTheProtocol()
    {
        var ml = _fixture.Ml;
        var pairs = ml.FaceRecognition().Data.LoadPairs(WritePairs(), imageRoot: "");
        var embedded = ml.FaceRecognition().Transforms.EmbedPairs(_fixture.Model, pairs).Transform(pairs);
        var scored = ml.FaceRecognition().Transforms.ScorePairs().Fit(embedded).Transform(embedded);
        var metrics = ml.FaceRecognition().EvaluateVerification(scored);
        _output.WriteLine($"ORL s31..s40, 450 + 450 pairs: {metrics}");
        Assert.Equal((450, 450, 10), (metrics.SamePairs, metrics.DifferentPairs, metrics.Folds));
        Assert.True(metrics.Accuracy > 0.8, metrics.ToString());
        Assert.True(metrics.Auc > 0.9, metrics.ToString());
    }

    [OrlFact]
    public void UnseenPeopleAreIdentifiedAndStrangersScoreLower()
    {
        var ml = _fixture.Ml;
        var unseen = ml.Data.CreateEnumerable<FaceLoss.Data.FaceImageRow>(_fixture.Unseen, reuseRowObject: false).ToList();
        static int Number(string path) => int.Parse(Path.GetFileNameWithoutExtension(path));
        var galleryImages = ml.Data.LoadFromEnumerable(unseen.Where(r => Number(r.ImagePath) <= 5).ToList());
        // Probes: the other five images of each enrolled person, and ten training subjects nobody enrolled.
        var strangers = ml.Data.CreateEnumerable<FaceLoss.Data.FaceImageRow>(Orl.Load(ml, id => Orl.SubjectNumber(id) <= 10), reuseRowObject: false);
        var probes = ml.Data.LoadFromEnumerable(unseen.Where(r => Number(r.ImagePath) > 5).Concat(strangers).ToList());

        var gallery = ml.FaceRecognition().Transforms.EnrollGallery().Fit(_fixture.Model.Transform(galleryImages));
        var identified = gallery.Transform(_fixture.Model.Transform(probes));
        var metrics = ml.FaceRecognition().EvaluateIdentification(identified, gallery);
        _output.WriteLine($"ORL gallery s31..s40 (images 1-5): {metrics}");
        Assert.Equal((50, 100), (metrics.EnrolledProbes, metrics.UnenrolledProbes));
        Assert.True(metrics.Rank1 > 0.8, metrics.ToString());
        Assert.True(metrics.Rank5 >= metrics.Rank1);
        Assert.NotNull(metrics.DetectionAndIdentificationRate(0.1));
        var scores = ml.Data.CreateEnumerable<IdentityScoreRow>(identified, reuseRowObject: false).ToList();
        double enrolled = scores.Where(r => Orl.SubjectNumber(r.Identity) > 30).Average(r => r.IdentityScore);
        double strangerScore = scores.Where(r => Orl.SubjectNumber(r.Identity) <= 10).Average(r => r.IdentityScore);
        Assert.True(strangerScore < enrolled, $"strangers score {strangerScore:F3} on average, enrolled people {enrolled:F3}");
    }

    private sealed class IdentityScoreRow
    {
        public string Identity { get; set; } = "";

        public float IdentityScore { get; set; }
    }

    [OrlFact]
    public void UnseenPeopleRetrieveEachOther()
    {
        var metrics = _fixture.Ml.FaceRecognition().EvaluateRetrieval(_fixture.Model.Transform(_fixture.Unseen));
        _output.WriteLine($"ORL s31..s40 retrieval: {metrics}");
        Assert.Equal(100, metrics.Queries);
        Assert.True(metrics.PrecisionAt1 > 0.8, metrics.ToString());
        Assert.InRange(metrics.MapAtR, 0.3, 1.0);
    }

    [OrlFact]
    public void TheFlipTestIsMirrorInvariantAndSurvivesSaveAndLoad()
    {
        var flip = _fixture.Embedder.WithFlipTest();
        var image = _fixture.Ml.Data.CreateEnumerable<PixelRow>(_fixture.PreprocessedUnseen, reuseRowObject: false).First().Features;
        var mirror = Mirror(image, 1, Orl.Height, Orl.Width);
        Assert.Equal(flip.Embed(image), flip.Embed(mirror));                         // f(x) + f(mirror x) is symmetric
        Assert.NotEqual(_fixture.Embedder.Embed(image), flip.Embed(image));

        var chain = new TransformerChain<ITransformer>(_fixture.Model.Take(_fixture.Model.Count() - 1).Append(flip).ToArray());
        string path = Path.Combine(_folder, "flip.zip");
        _fixture.Ml.Model.Save(chain, _fixture.TrainingSchema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext().Model.Load(path, out _);
        Assert.True(Assert.IsType<FaceLoss.Embedding.FaceEmbeddingTransformer>(loaded.Last()).FlipTest);
    }

    private static float[] Mirror(float[] image, int channels, int height, int width)
    {
        var result = (float[])image.Clone();
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                Array.Reverse(result, (c * height + y) * width, width);
        return result;
    }

    private sealed class PixelRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
