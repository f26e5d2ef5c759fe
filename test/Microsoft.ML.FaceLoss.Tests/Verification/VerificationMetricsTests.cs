using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.Tests.Verification;

/// <summary>The verification figures against cases computed by hand.</summary>
public sealed class VerificationMetricsTests
{
    private static VerificationMetrics Compute(double[] same, double[] different, int folds = 2)
        => VerificationMetrics.Compute(same.Concat(different).ToList(), same.Select(_ => true).Concat(different.Select(_ => false)).ToList(), foldCount: folds);

    [Fact]
    public void APerfectScorerHasAucOneEerZeroAndFullAccuracy()
    {
        var m = Compute(new[] { 0.9, 0.8, 0.7, 0.6 }, new[] { 0.1, 0.2, 0.3, 0.4 });
        Assert.Equal(1.0, m.Auc);
        Assert.Equal(0.0, m.EqualErrorRate);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(0.5, m.Threshold, 10); // the midpoint between 0.4 and 0.6
        Assert.Equal(1.0, m.TrueAcceptRate(0.25));
    }

    [Fact]
    public void AnInvertedScorerHasAucZero() => Assert.Equal(0.0, Compute(new[] { 0.1, 0.2 }, new[] { 0.8, 0.9 }).Auc);

    [Fact]
    public void AConstantScorerHasAucOneHalfAndEerOneHalf()
    {
        var m = Compute(new[] { 0.5, 0.5, 0.5 }, new[] { 0.5, 0.5, 0.5 });
        Assert.Equal(0.5, m.Auc);
        Assert.Equal(0.5, m.EqualErrorRate);
        Assert.Equal(new[] { (0.0, 0.0), (1.0, 1.0) }, m.Roc.Select(p => (p.FalseAcceptRate, p.TrueAcceptRate)));
    }

    [Fact]
    public void TiesBetweenSameAndDifferentCountOneHalf()
    {
        // (0.7 > 0.5), (0.7 > 0.3), (0.5 > 0.3) win; (0.5 = 0.5) ties: 3.5 / 4.
        Assert.Equal(0.875, Compute(new[] { 0.5, 0.7 }, new[] { 0.5, 0.3 }).Auc);
    }

    [Fact]
    public void TheEerIsInterpolatedOnTheRocSegmentThatCrossesIt()
    {
        // ROC (0,0) (0,.5) (.5,1) (1,1): FAR = 1 - TAR half way along the tied segment, at FAR .25.
        var m = Compute(new[] { 0.9, 0.6 }, new[] { 0.6, 0.1 });
        Assert.Equal(0.25, m.EqualErrorRate, 10);
        Assert.Equal(0.875, m.Auc);
    }

    [Fact]
    public void TheEerOfASymmetricCaseIsExact()
    {
        // ROC points include (.25, .75): FAR = 1 - TAR = .25.
        Assert.Equal(0.25, Compute(new[] { 0.9, 0.7, 0.5, 0.3 }, new[] { 0.8, 0.4, 0.2, 0.1 }).EqualErrorRate, 10);
    }

    [Fact]
    public void TarAtFarIsOnlyReportedWhereThePairsAllowIt()
    {
        var m = Compute(Enumerable.Range(0, 20).Select(i => 0.5 + i / 100.0).ToArray(), Enumerable.Range(0, 20).Select(i => i / 100.0).ToArray());
        Assert.Equal(1.0, m.TrueAcceptRate(1e-1));
        Assert.Null(m.TrueAcceptRate(1e-2)); // 20 different pairs cannot measure 1 in 100
        Assert.Null(m.TrueAcceptRate(1e-3));
    }

    [Fact]
    public void KFoldChoosesEachThresholdOnTheOtherFolds()
    {
        // Stratified into 2 folds: fold 0 = {S .9, S .8, D .5, D .7}, fold 1 = {S .6, S .4, D .3, D .1}.
        // Fold 1 alone is separable at .35, which accepts fold 0's different pairs: accuracy .5;
        // fold 0 alone at .75, which rejects fold 1's same pairs: accuracy .5.
        var scores = new[] { 0.9, 0.6, 0.8, 0.4, 0.5, 0.3, 0.7, 0.1 };
        var same = new[] { true, true, true, true, false, false, false, false };
        var m = VerificationMetrics.Compute(scores, same, foldCount: 2);
        Assert.Equal(new[] { 0.35, 0.75 }, m.FoldThresholds.Select(t => Math.Round(t, 10)));
        Assert.Equal(new[] { 0.5, 0.5 }, m.FoldAccuracies);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal(0.0, m.AccuracyStdDev);
    }

    [Fact]
    public void GivenFoldsAreUsedAsTheyAre()
    {
        var scores = new[] { 0.9, 0.6, 0.8, 0.4, 0.5, 0.3, 0.7, 0.1 };
        var same = new[] { true, true, true, true, false, false, false, false };
        // Folds by score halves instead: {.9 .8 .7 .6 | .5 .4 .3 .1}.
        var folds = new[] { 7, 7, 7, 3, 3, 3, 7, 3 };
        var m = VerificationMetrics.Compute(scores, same, folds);
        Assert.Equal(2, m.Folds);
        // By hand. Fold 7 {S .9, S .6, S .8, D .7} takes the threshold fitted on fold 3 {S .4, D .5, D .3, D .1}:
        // 3 of 4 right at best, first between .3 and .4 (.35): fold 7 then scores 3 of 4. Fold 3 takes the one
        // fitted on fold 7: "everything is same" (below the lowest score, .6 - 1) gets 3 of 4 there, and 1 of 4 on fold 3.
        Assert.Equal(new[] { -0.4, 0.35 }, m.FoldThresholds.Select(t => Math.Round(t, 10)));
        Assert.Equal(new[] { 0.25, 0.75 }, m.FoldAccuracies);
        Assert.Equal(0.5, m.Accuracy);
    }

    [Fact]
    public void AmongEquallyGoodThresholdsTheSmallestIsChosen()
    {
        // S .2, D .5, S .8: "below everything" and the midpoint .65 both get 2 of 3 right.
        var m = VerificationMetrics.Compute(new[] { 0.2, 0.5, 0.8 }, new[] { true, false, true }, foldCount: 2);
        Assert.Equal(0.2 - 1, m.Threshold, 10);
        Assert.Equal(2.0 / 3, m.BestAccuracy, 10);
    }

    [Fact]
    public void PairsOfOneClassOnlyAreRefused()
        => Assert.Throws<ArgumentException>(() => VerificationMetrics.Compute(new[] { 0.1, 0.2 }, new[] { true, true }));

    [Theory]
    [InlineData(1, 2_000, 10, false)]
    [InlineData(2, 3_001, 10, true)]
    [InlineData(3, 500, 3, true)]
    public void TheOneSortSweepEqualsTheFigureOfAStraightforwardImplementation(int seed, int pairs, int folds, bool givenFolds)
    {
        // Scores rounded to 2 decimals: many ties, across folds and across same and different pairs.
        var random = new Random(seed);
        var same = Enumerable.Range(0, pairs).Select(_ => random.NextDouble() < 0.4).ToArray();
        var scores = same.Select(s => Math.Round(random.NextDouble() * 0.7 + (s ? 0.3 : 0), 2)).ToArray();
        int[]? foldOf = givenFolds ? Enumerable.Range(0, pairs).Select(_ => random.Next(folds) * 7 - 3).ToArray() : null;

        var m = VerificationMetrics.Compute(scores, same, foldOf, folds);
        var expected = NaiveVerification.Compute(scores, same, foldOf ?? NaiveVerification.Stratified(same, folds));

        Assert.Equal(expected.FoldThresholds, m.FoldThresholds);
        Assert.Equal(expected.FoldAccuracies, m.FoldAccuracies);
        Assert.Equal(expected.Threshold, m.Threshold);
        Assert.Equal(expected.BestAccuracy, m.BestAccuracy);
        Assert.Equal(expected.Auc, m.Auc, 12);
        Assert.Equal(expected.Roc, m.Roc);
    }

    /// <summary>The figures as the protocol states them, with a sort per fold: the reference of the one-sort sweep.</summary>
    private static class NaiveVerification
    {
        public static int[] Stratified(bool[] same, int folds)
        {
            int s = 0, d = 0;
            return same.Select(x => x ? s++ % folds : d++ % folds).ToArray();
        }

        public static (double[] FoldThresholds, double[] FoldAccuracies, double Threshold, double BestAccuracy, double Auc, List<RocPoint> Roc)
            Compute(double[] scores, bool[] same, int[] fold)
        {
            var all = Enumerable.Range(0, scores.Length).ToArray();
            var ids = fold.Distinct().Order().ToArray();
            var thresholds = ids.Select(f => Best(scores, same, all.Where(i => fold[i] != f).ToArray()).Threshold).ToArray();
            var accuracies = ids.Select((f, k) =>
            {
                var test = all.Where(i => fold[i] == f).ToArray();
                return test.Count(i => (scores[i] >= thresholds[k]) == same[i]) / (double)test.Length;
            }).ToArray();
            var (threshold, best) = Best(scores, same, all);
            // ROC from the highest score down, one point per distinct score; AUC by counting every (same, different) pair.
            int positives = same.Count(x => x), negatives = same.Length - positives;
            var roc = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
            foreach (double t in scores.Distinct().OrderDescending())
                roc.Add(new RocPoint(t, all.Count(i => !same[i] && scores[i] >= t) / (double)negatives, all.Count(i => same[i] && scores[i] >= t) / (double)positives));
            double wins = 0;
            foreach (int i in all.Where(i => same[i]))
                foreach (int j in all.Where(j => !same[j]))
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            return (thresholds, accuracies, threshold, best, wins / ((double)positives * negatives), roc);
        }

        private static (double Threshold, double Accuracy) Best(double[] scores, bool[] same, int[] rows)
        {
            // Candidates: below the lowest score, midpoints of consecutive distinct scores, above the highest; the smallest of the best.
            var distinct = rows.Select(i => scores[i]).Distinct().Order().ToArray();
            var candidates = new[] { distinct[0] - 1 }.Concat(distinct.Zip(distinct.Skip(1), (a, b) => (a + b) / 2)).Append(distinct[^1] + 1);
            double bestThreshold = 0, bestCorrect = -1;
            foreach (double t in candidates)
            {
                int correct = rows.Count(i => (scores[i] >= t) == same[i]);
                if (correct > bestCorrect) (bestThreshold, bestCorrect) = (t, correct);
            }
            return (bestThreshold, bestCorrect / rows.Length);
        }
    }
}
