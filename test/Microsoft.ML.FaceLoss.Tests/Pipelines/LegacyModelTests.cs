using System.Text.Json;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>
/// Model files saved by earlier versions load with today's code and give what they gave then
/// (Fixtures/models-v1: image loading, centre crop, pixels and embedding; a gallery; pair scoring).
/// </summary>
[Collection(Infrastructure.TorchCollection.Name)]
public sealed class LegacyModelTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "models-v1");

    private static JsonElement Expected { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json"))).RootElement;

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void AnImageModelOfVersion1EmbedsAsItDidThen()
    {
        var ml = new MLContext();
        var model = ml.Model.Load(Path.Combine(Folder, "image-model.zip"), out var schema);
        var images = Expected.GetProperty("images").EnumerateArray().ToList();
        var input = ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { ImagePath = Path.Combine(Folder, i.GetProperty("file").GetString()!) }));
        var embedded = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(input), reuseRowObject: false).ToList();
        Assert.Equal(images.Count, embedded.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var expected = Floats(images[i].GetProperty("embedding"));
            Assert.Equal(expected.Length, embedded[i].Embedding.Length);
            for (int j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - embedded[i].Embedding[j]) < 1e-5, $"image {i}, value {j}: {embedded[i].Embedding[j]}, then {expected[j]}");
        }
    }

    [Fact]
    public void AGalleryOfVersion1IdentifiesAsItDidThen()
    {
        var ml = new MLContext();
        var gallery = ml.Model.Load(Path.Combine(Folder, "gallery-model.zip"), out _);
        var images = Expected.GetProperty("images").EnumerateArray().ToList();
        var probes = ml.Data.LoadFromEnumerable(images.Select(i => new GalleryRow { Embedding = Floats(i.GetProperty("embedding")), Identity = i.GetProperty("identity").GetString()! }));
        var identified = ml.Data.CreateEnumerable<IdentifiedRow>(gallery.Transform(probes), reuseRowObject: false).ToList();
        var expected = Expected.GetProperty("gallery").EnumerateArray().ToList();
        Assert.Equal(expected.Count, identified.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("PredictedIdentity").GetString(), identified[i].PredictedIdentity);
            Assert.Equal(expected[i].GetProperty("TopIdentities").EnumerateArray().Select(t => t.GetString()), identified[i].TopIdentities);
            Assert.Equal(expected[i].GetProperty("IdentityScore").GetSingle(), identified[i].IdentityScore, 1e-5f);
        }
    }

    [Fact]
    public void PairScoringOfVersion1DecidesAsItDidThen()
    {
        var ml = new MLContext();
        var scorer = ml.Model.Load(Path.Combine(Folder, "pair-model.zip"), out _);
        var images = Expected.GetProperty("images").EnumerateArray().Select(i => Floats(i.GetProperty("embedding"))).ToList();
        var pairs = new List<PairRow>();
        for (int i = 0; i < images.Count; i++)
            for (int j = i + 1; j < images.Count; j += 4)
                pairs.Add(new PairRow { Embedding1 = images[i], Embedding2 = images[j] });
        var scored = ml.Data.CreateEnumerable<ScoredRow>(scorer.Transform(ml.Data.LoadFromEnumerable(pairs)), reuseRowObject: false).ToList();
        var expected = Expected.GetProperty("pairs").EnumerateArray().ToList();
        Assert.Equal(expected.Count, scored.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("Score").GetSingle(), scored[i].Score, 1e-5f);
            Assert.Equal(expected[i].GetProperty("PredictedLabel").GetBoolean(), scored[i].PredictedLabel);
        }
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private sealed class GalleryRow
    {
        [VectorType(8)]
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class IdentifiedRow
    {
        public string PredictedIdentity { get; set; } = "";

        public float IdentityScore { get; set; }

        public string[] TopIdentities { get; set; } = Array.Empty<string>();
    }

    private sealed class PairRow
    {
        [VectorType(8)]
        public float[] Embedding1 { get; set; } = Array.Empty<float>();

        [VectorType(8)]
        public float[] Embedding2 { get; set; } = Array.Empty<float>();
    }

    private sealed class ScoredRow
    {
        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }
}
