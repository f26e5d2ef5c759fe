using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.Tests.Verification;

public sealed class PairScoringTests
{
    private readonly MLContext _ml = new(seed: 1);

    public sealed class Pair
    {
        [VectorType(2)]
        public float[] Embedding1 { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] Embedding2 { get; set; } = Array.Empty<float>();

        public bool IsSame { get; set; }
    }

    private sealed class Scored
    {
        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }

    private static Pair At(double degrees, bool same)
        => new() { Embedding1 = new[] { 1f, 0f }, Embedding2 = new[] { (float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180) }, IsSame = same };

    // Angles between the two embeddings: same pairs 10, 30, 50, 70; different 60, 80, 100, 120 degrees.
    private IDataView Pairs => _ml.Data.LoadFromEnumerable(new[] { At(10, true), At(30, true), At(50, true), At(70, true), At(60, false), At(80, false), At(100, false), At(120, false) });

    [Fact]
    public void TheFittedThresholdMaximisesAccuracy()
    {
        var scorer = _ml.FaceRecognition().Transforms.ScorePairs().Fit(Pairs);
        // Accepting down to 50 degrees and down to 70 both get 7 of 8 right; the smaller threshold wins:
        // the midpoint of cos 70 and cos 80.
        Assert.Equal((Math.Cos(70 * Math.PI / 180) + Math.Cos(80 * Math.PI / 180)) / 2, scorer.Threshold, 6);
        var scored = _ml.Data.CreateEnumerable<Scored>(scorer.Transform(Pairs), reuseRowObject: false).ToList();
        Assert.Equal(Math.Cos(10 * Math.PI / 180), scored[0].Score, 5);
        Assert.Equal(new[] { true, true, true, true, true, false, false, false }, scored.Select(s => s.PredictedLabel));
    }

    [Fact]
    public void ATargetFalseAcceptRateGivesTheLowestThresholdWithinIt()
    {
        var scorer = _ml.FaceRecognition().Transforms.ScorePairs(new PairScoringEstimator.Options
        {
            ThresholdMode = PairThresholdMode.TargetFalseAcceptRate, TargetFalseAcceptRate = 0.25,
        }).Fit(Pairs);
        // One of four different pairs may pass (the one at 60 degrees); the lowest threshold that keeps
        // it so is the score of the same pair at 70 degrees, which accepts every same pair.
        Assert.Equal(Math.Cos(70 * Math.PI / 180), scorer.Threshold, 6);
    }

    /// <summary>A pair whose embeddings count how often they are read.</summary>
    public sealed class CountedPair
    {
        private float[] _first = Array.Empty<float>(), _second = Array.Empty<float>();

        [VectorType(2)]
        public float[] Embedding1 { get { Reads++; return _first; } set => _first = value; }

        [VectorType(2)]
        public float[] Embedding2 { get { Reads++; return _second; } set => _second = value; }

        [NoColumn]
        public int Reads { get; set; }
    }

    [Fact]
    public void APredictionEngineRowIsScoredOnceForScoreAndLabel()
    {
        var scorer = _ml.FaceRecognition().Transforms.ScorePairs().Fit(Pairs);
        var engine = _ml.Model.CreatePredictionEngine<CountedPair, Scored>(scorer);
        var pair = new CountedPair { Embedding1 = At(20, true).Embedding1, Embedding2 = At(20, true).Embedding2 };
        var scored = engine.Predict(pair);
        Assert.Equal(2, pair.Reads); // each embedding once
        Assert.Equal(Math.Cos(20 * Math.PI / 180), scored.Score, 5);
        Assert.True(scored.PredictedLabel);
        var far = new CountedPair { Embedding1 = At(150, false).Embedding1, Embedding2 = At(150, false).Embedding2 };
        Assert.False(engine.Predict(far).PredictedLabel);
        Assert.Equal(2, far.Reads);
    }

    [Fact]
    public void AFixedThresholdNeedsNoLabels()
    {
        var unlabelled = _ml.Data.LoadFromEnumerable(new[] { new Unlabelled { Embedding1 = new[] { 1f, 0f }, Embedding2 = new[] { 0f, 1f } } });
        var scorer = _ml.FaceRecognition().Transforms.ScorePairs(new PairScoringEstimator.Options { Threshold = -0.5, Metric = PairScoreMetric.NegativeEuclidean }).Fit(unlabelled);
        var scored = _ml.Data.CreateEnumerable<Scored>(scorer.Transform(unlabelled), reuseRowObject: false).Single();
        Assert.Equal(-Math.Sqrt(2), scored.Score, 5);
        Assert.False(scored.PredictedLabel);
    }

    [Fact]
    public void TheScorerSurvivesSaveAndLoadAndServesPredictionEngines()
    {
        var scorer = _ml.FaceRecognition().Transforms.ScorePairs().Fit(Pairs);
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-pairs-{Guid.NewGuid():N}.zip");
        try
        {
            _ml.Model.Save(scorer, Pairs.Schema, path);
            var loaded = Assert.IsType<PairScoringTransformer>(new MLContext().Model.Load(path, out _));
            Assert.Equal(scorer.Threshold, loaded.Threshold);
            var engine = _ml.Model.CreatePredictionEngine<Pair, Scored>(loaded);
            Assert.True(engine.Predict(At(20, true)).PredictedLabel);
            Assert.False(engine.Predict(At(90, false)).PredictedLabel);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AMissingLabelColumnIsNamedWithTheCure()
    {
        var unlabelled = _ml.Data.LoadFromEnumerable(new[] { new Unlabelled { Embedding1 = new[] { 1f, 0f }, Embedding2 = new[] { 0f, 1f } } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.FaceRecognition().Transforms.ScorePairs().Fit(unlabelled));
        Assert.Contains("'IsSame'", error.Message);
        Assert.Contains("Threshold", error.Message);
    }

    public sealed class Unlabelled
    {
        [VectorType(2)]
        public float[] Embedding1 { get; set; } = Array.Empty<float>();

        [VectorType(2)]
        public float[] Embedding2 { get; set; } = Array.Empty<float>();
    }
}
