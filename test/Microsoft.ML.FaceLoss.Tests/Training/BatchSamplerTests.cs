using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Training;

public sealed class BatchSamplerTests
{
    private static int[] Labels(params int[] imagesPerIdentity)
        => imagesPerIdentity.SelectMany((count, identity) => Enumerable.Repeat(identity, count)).ToArray();

    [Fact]
    public void IdentityBalancedBatchesHoldPIdentitiesOfKImages()
    {
        var labels = Labels(5, 4, 7, 2, 3, 6, 4, 4);
        var sampler = new IdentityBalancedSampler(labels, identitiesPerBatch: 3, imagesPerIdentity: 4, "Triplet");
        var batches = sampler.Epoch(new Random(1));
        foreach (var batch in batches)
        {
            var groups = batch.GroupBy(r => labels[r]).ToList();
            Assert.InRange(groups.Count, 2, 3);
            Assert.All(groups, g => Assert.Equal(4, g.Count()));
        }
        Assert.Equal(Enumerable.Range(0, labels.Length), batches.SelectMany(b => b).Distinct().Order());
    }

    [Fact]
    public void AnIdentityWithOneImageIsRefusedWithTheCure()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new IdentityBalancedSampler(Labels(3, 1, 4), 2, 2, "Triplet"));
        Assert.Contains("single image", error.Message);
        Assert.Contains("MinimumImagesPerIdentity", error.Message);
    }

    [Fact]
    public void ShuffledBatchesCoverEveryRowOnce()
    {
        var batches = new ShuffledSampler(10, 4).Epoch(new Random(3));
        Assert.Equal(new[] { 4, 4, 2 }, batches.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b).Order());
    }

    [Fact]
    public void PairAndTripletHeadsGetIdentityBalancedBatches()
    {
        var labels = Labels(4, 4, 4);
        var data = TrainingSettings.From(new FaceEmbeddingTrainer.Options { BatchSize = 8, ImagesPerIdentity = 4 }).Data;
        Assert.IsType<IdentityBalancedSampler>(BatchSampler.For(data, new TripletLoss.Options(), labels));
        Assert.IsType<IdentityBalancedSampler>(BatchSampler.For(data, new ContrastiveLoss.Options(), labels));
        Assert.IsType<ShuffledSampler>(BatchSampler.For(data, new ArcFaceLoss.Options(), labels));
    }

    [Theory]
    [InlineData(new[] { 20, 2, 2 }, 3, 4)]          // one identity with far more images than the others
    [InlineData(new[] { 5, 4, 7, 2, 3, 6, 4, 4 }, 3, 4)]
    [InlineData(new[] { 9, 9 }, 4, 2)]                // P larger than the identities there are
    [InlineData(new[] { 2, 2, 2, 2, 2, 3 }, 2, 2)]
    public void EveryEpochHasTheAnnouncedBatchesEveryImageAndNegativesInEachBatch(int[] imagesPerIdentity, int p, int k)
    {
        var labels = Labels(imagesPerIdentity);
        var sampler = new IdentityBalancedSampler(labels, identitiesPerBatch: p, imagesPerIdentity: k, "Triplet");
        for (int epoch = 0; epoch < 50; epoch++)
        {
            var batches = sampler.Epoch(new Random(epoch));
            Assert.Equal(sampler.BatchesPerEpoch, batches.Count);
            Assert.Equal(Enumerable.Range(0, labels.Length), batches.SelectMany(b => b).Distinct().Order());
            Assert.All(batches, b => Assert.True(b.Select(r => labels[r]).Distinct().Count() >= 2, "a batch without negatives"));
            Assert.All(batches, b => Assert.All(b.GroupBy(r => labels[r]), g => Assert.Equal(0, g.Count() % k)));
        }
    }

    [Fact]
    public void ShuffledSamplerAnnouncesItsBatchesAndRefusesFewerThanTwoRows()
    {
        foreach (var (count, size) in new[] { (10, 4), (9, 4), (8, 4), (5, 5), (2, 64) })
            Assert.Equal(new ShuffledSampler(count, size).Epoch(new Random(1)).Count, new ShuffledSampler(count, size).BatchesPerEpoch);
        var error = Assert.Throws<InvalidOperationException>(() => new ShuffledSampler(1, 4));
        Assert.Contains("at least 2 rows", error.Message);
    }
}
