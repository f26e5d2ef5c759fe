using Microsoft.ML.FaceLoss.Tests.Infrastructure;
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

    /// <summary>A probe whose embedding counts how often it is read.</summary>
    public sealed class CountedProbe
    {
        private float[] _embedding = Array.Empty<float>();

        [VectorType(2)]
        public float[] Embedding
        {
            get { Reads++; return _embedding; }
            set => _embedding = value;
        }

        [NoColumn]
        public int Reads { get; set; }
    }

    [Fact]
    public void APredictionEngineRowIsSearchedOnceWhicheverColumnsAreRead()
    {
        var gallery = _ml.FaceRecognition().Transforms.EnrollGallery(topK: 3).Fit(Gallery);
        var engine = _ml.Model.CreatePredictionEngine<CountedProbe, Identified>(gallery);
        var probe = new CountedProbe { Embedding = At(12, "?").Embedding };
        var first = engine.Predict(probe);
        Assert.Equal(1, probe.Reads); // four columns, one search
        var next = new CountedProbe { Embedding = At(175, "?").Embedding };
        var second = engine.Predict(next);
        Assert.Equal(1, next.Reads);
        Assert.Equal(("ann", "cy"), (first.PredictedIdentity, second.PredictedIdentity));
        Assert.Equal(second.TopScores[0], second.IdentityScore);
    }

    [Theory]
    [InlineData(1, 1, 5)]   // one row per identity
    [InlineData(2, 7, 5)]   // uneven identities, up to 7 rows
    [InlineData(3, 40, 3)]  // an identity with more rows than k x rows of the others
    public void TheSearchFindsTheIdentitiesABruteForceSearchFinds(int seed, int widest, int topK)
    {
        var random = new Random(seed);
        var rows = new List<(float[] Embedding, string Identity)>();
        for (int id = 0; id < 30; id++)
        {
            int count = id == 0 ? widest : 1 + random.Next(Math.Min(widest, 4));
            for (int r = 0; r < count; r++)
                rows.Add((Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), $"id{id}"));
        }
        var galleryData = _ml.Data.LoadFromEnumerable(rows.Select(r => new Wide { Embedding = r.Embedding, Identity = r.Identity }));
        var gallery = _ml.FaceRecognition().Transforms.EnrollGallery(topK: topK).Fit(galleryData);
        var probes = Enumerable.Range(0, 300).Select(_ => new Wide { Embedding = Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() }).ToList();
        var found = _ml.Data.CreateEnumerable<Identified>(gallery.Transform(_ml.Data.LoadFromEnumerable(probes)), reuseRowObject: false).ToList();

        for (int p = 0; p < probes.Count; p++)
        {
            // Each identity's score is its best row; identities by score, best first.
            var expected = rows.GroupBy(r => r.Identity)
                .Select(g => (Identity: g.Key, Score: g.Max(r => VerificationMath.Cosine(probes[p].Embedding, r.Embedding))))
                .OrderByDescending(e => e.Score).Take(topK).ToList();
            Assert.Equal(expected.Select(e => e.Identity), found[p].TopIdentities);
            Assert.Equal(expected.Select(e => e.Score), found[p].TopScores.Select(s => (double)s), new ToleranceComparer(1e-5));
        }
    }

    public sealed class Wide
    {
        [VectorType(8)]
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < tolerance;

        public int GetHashCode(double obj) => 0;
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
