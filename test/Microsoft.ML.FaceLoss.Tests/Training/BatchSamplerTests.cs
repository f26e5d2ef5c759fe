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
        var options = new FaceEmbeddingTrainer.Options { Loss = new TripletLoss.Options(), BatchSize = 8, ImagesPerIdentity = 4 };
        Assert.IsType<IdentityBalancedSampler>(BatchSampler.For(options, labels));
        options.Loss = new ContrastiveLoss.Options();
        Assert.IsType<IdentityBalancedSampler>(BatchSampler.For(options, labels));
        options.Loss = new ArcFaceLoss.Options();
        Assert.IsType<ShuffledSampler>(BatchSampler.For(options, labels));
    }
}
