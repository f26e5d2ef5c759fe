using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.Tests.Verification;

/// <summary>Gallery search, identification figures and retrieval figures on small hand-made cases.</summary>
public sealed class IdentificationAndRetrievalTests
{
    private readonly MLContext _ml = new(seed: 1);

    public sealed class Face
    {
        [VectorType(2)]
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private static Face At(double degrees, string identity)
        => new() { Embedding = new[] { (float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180) }, Identity = identity };

    private IDataView Gallery => _ml.Data.LoadFromEnumerable(new[] { At(0, "ann"), At(10, "ann"), At(90, "bob"), At(180, "cy") });

    private sealed class Identified
    {
        public string PredictedIdentity { get; set; } = "";

        public float IdentityScore { get; set; }

        public string[] TopIdentities { get; set; } = Array.Empty<string>();

        public float[] TopScores { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void ProbesGetTheBestIdentitiesInOrderWithTheirBestRowScores()
    {
        var gallery = _ml.FaceRecognition().Transforms.EnrollGallery(topK: 3).Fit(Gallery);
        var probes = _ml.Data.LoadFromEnumerable(new[] { At(12, "ann"), At(100, "bob") });
        var result = _ml.Data.CreateEnumerable<Identified>(gallery.Transform(probes), reuseRowObject: false).ToList();
        Assert.Equal(new[] { "ann", "bob" }, result.Select(r => r.PredictedIdentity));
        Assert.Equal(new[] { "ann", "bob", "cy" }, result[0].TopIdentities);
        Assert.Equal(Math.Cos(2 * Math.PI / 180), result[0].TopScores[0], 5); // ann's nearer row, at 10 degrees
        Assert.Equal(Math.Cos(78 * Math.PI / 180), result[0].TopScores[1], 5);
        Assert.Equal(result[1].TopScores[0], result[1].IdentityScore);
    }

    [Fact]
    public void ProbesBelowTheRejectionThresholdAreUnknown()
    {
        var gallery = _ml.FaceRecognition().Transforms.EnrollGallery(rejectionThreshold: 0.9).Fit(Gallery);
        var probes = _ml.Data.LoadFromEnumerable(new[] { At(5, "ann"), At(45, "dee") });
        var result = _ml.Data.CreateEnumerable<Identified>(gallery.Transform(probes), reuseRowObject: false).ToList();
        Assert.Equal(new[] { "ann", "unknown" }, result.Select(r => r.PredictedIdentity));
        Assert.Equal(3, gallery.TopK); // at most the gallery's identities
    }

    [Fact]
    public void TheGallerySurvivesSaveAndLoadAndServesPredictionEngines()
    {
        var gallery = _ml.FaceRecognition().Transforms.EnrollGallery(rejectionThreshold: 0.5).Fit(Gallery);
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-gallery-{Guid.NewGuid():N}.zip");
        try
        {
            _ml.Model.Save(gallery, Gallery.Schema, path);
            var loaded = Assert.IsType<FaceIdentificationTransformer>(new MLContext().Model.Load(path, out _));
            Assert.Equal(new[] { "ann", "bob", "cy" }, loaded.Identities);
            Assert.Equal(0.5, loaded.RejectionThreshold);
            var engine = _ml.Model.CreatePredictionEngine<Face, Identified>(loaded);
            Assert.Equal("cy", engine.Predict(At(170, "?")).PredictedIdentity);
            Assert.Equal("bob", engine.Predict(At(80, "?")).PredictedIdentity);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void IdentificationFiguresFollowTheProtocol()
    {
        // Enrolled probes: ann rank 1, bob rank 2, cy rank 1; two strangers score .3 and .6.
        var metrics = IdentificationMetrics.Compute(
            new[] { "ann", "bob", "cy", "x", "y" },
            new[] { new[] { "ann", "bob" }, new[] { "cy", "bob" }, new[] { "cy", "ann" }, new[] { "ann", "bob" }, new[] { "bob", "ann" } },
            new[] { 0.9, 0.7, 0.5, 0.3, 0.6 },
            new[] { "ann", "bob", "cy" });
        Assert.Equal(2.0 / 3, metrics.Rank1, 10);
        Assert.Equal(new[] { 2.0 / 3, 1.0 }, metrics.Cmc.Select(c => Math.Round(c, 10)).ToArray(), new RoundedComparer());
        Assert.Null(metrics.Rank5);
        Assert.Equal((3, 2), (metrics.EnrolledProbes, metrics.UnenrolledProbes));
        // FPIR .5 of 2 strangers: the threshold is the second highest stranger score, .3; rank-1 correct above it: ann (.9), cy (.5).
        Assert.Equal(2.0 / 3, metrics.DetectionAndIdentificationRate(0.5)!.Value, 10);
        Assert.Null(metrics.DetectionAndIdentificationRate(0.1)); // 2 strangers cannot measure 1 in 10
    }

    [Fact]
    public void RetrievalOfUnambiguousRankingsIsExact()
    {
        // a: 0, 10, 45 degrees; b: 100, 115; c: 300. Every query's neighbours lie at distinct angles,
        // and the query itself (at distance 0) is never its own neighbour.
        var faces = new[] { At(0, "a"), At(10, "a"), At(45, "a"), At(100, "b"), At(115, "b"), At(300, "c") };
        var m = RetrievalMetrics.Compute(faces.Select(f => f.Embedding).ToList(), faces.Select(f => f.Identity).ToList());
        // a0: a10 (10), a45 (45) -> R=2, both match: P@1 1, RP 1, AP 1.  a10: a0 (10), a45 (35) -> 1, 1, 1.
        // a45: a10 (35), a0 (45) -> 1, 1, 1.  b100: b115 (15) -> 1.  b115: b100 (15) -> 1.  c: no other c, skipped.
        Assert.Equal((5, 1), (m.Queries, m.SkippedQueries));
        Assert.Equal((1.0, 1.0, 1.0), (m.PrecisionAt1, m.RPrecision, m.MapAtR));

        // Move a45 to 105, beside the b's.
        faces[2] = At(105, "a");
        m = RetrievalMetrics.Compute(faces.Select(f => f.Embedding).ToList(), faces.Select(f => f.Identity).ToList());
        // a0: [a10 (10), c300 (60)] -> P@1 1, RP 1/2, AP 1/2.
        // a10: [a0 (10), c300 (70)] -> 1, 1/2, 1/2.
        // a105: [b100 (5), b115 (10)] -> 0, 0, 0.
        // b100: [a105 (5)] -> 0, 0, 0.   b115: [a105 (10)] -> 0, 0, 0.
        Assert.Equal(2.0 / 5, m.PrecisionAt1, 10);
        Assert.Equal(1.0 / 5, m.RPrecision, 10);
        Assert.Equal(1.0 / 5, m.MapAtR, 10);
    }

    [Fact]
    public void EvaluateRetrievalReadsTheColumnsOfADataView()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { At(0, "a"), At(10, "a"), At(100, "b"), At(115, "b") });
        var m = _ml.FaceRecognition().EvaluateRetrieval(data);
        Assert.Equal(1.0, m.MapAtR);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;

        public int GetHashCode(double obj) => 0;
    }
}
