using System.Text.Json;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>
/// Class weights sharded across ranks: the loss and the gradients of the embeddings and of each
/// rank's rows of W equal the whole head's (see <see cref="ShardedHeadCase"/>); heads that cannot be
/// sharded are refused with the reason.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ShardedClassifierTests
{
    private const double Tolerance = 1e-5;

    /// <summary>The whole head's loss and gradients on the case's inputs.</summary>
    private static (double Loss, float[] EmbeddingGradient, float[] WeightGradient) Whole(FaceLossOptions options, int rows)
    {
        using var scope = NewDisposeScope();
        var (values, labels) = ShardedHeadCase.Inputs(rows);
        using var head = ShardedHeadCase.WholeHead(options);
        var embeddings = tensor(values, new long[] { rows, ShardedHeadCase.EmbeddingSize }).requires_grad_(true);
        var loss = head.forward(embeddings, tensor(labels));
        loss.backward();
        return (loss.ToDouble(), embeddings.grad!.data<float>().ToArray(), head.Weight.grad!.data<float>().ToArray());
    }

    /// <summary>
    /// Within 1e-5 of the loss's size: a float32 loss near 60 (the heads with s = 64) carries about 4e-6 of
    /// rounding, and the sharded softmax sums its exponentials in another order than log_softmax.
    /// </summary>
    private static void AssertLoss(string what, double expected, double actual)
        => Assert.True(Math.Abs(actual - expected) <= Tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: loss {actual} against {expected}.");

    private static void AssertClose(string what, IReadOnlyList<float> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double difference = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(difference <= Tolerance, $"{what}: differs by up to {difference:G3} (tolerance {Tolerance}).");
    }

    public static TheoryData<string> ShardableHeads() => new(ShardedHeadCase.Heads().Select(o => o.HeadName));

    [Theory]
    [MemberData(nameof(ShardableHeads))]
    public void OneRankHoldingEveryClassGivesTheLossAndGradientsOfTheHead(string headName)
    {
        var options = FaceLossHeads.CreateOptions(headName);
        int rows = ShardedHeadCase.RowsPerRank * 2;
        var expected = Whole(options, rows);

        using var scope = NewDisposeScope();
        var (values, labels) = ShardedHeadCase.Inputs(rows);
        using var whole = ShardedHeadCase.WholeHead(options);
        var shard = ClassShard.Of(ShardedHeadCase.Classes, 0, 1);
        using var part = ShardedHeadCase.ShardHead(options, whole, shard);
        var embeddings = tensor(values, new long[] { rows, ShardedHeadCase.EmbeddingSize }).requires_grad_(true);
        var (surrogate, loss) = new ShardedClassifier(part, shard, SingleProcessCommunicator.Instance).Forward(embeddings, tensor(labels));
        surrogate.backward();

        AssertLoss(headName, expected.Loss, loss);
        AssertClose($"{headName}, embeddings' gradient", expected.EmbeddingGradient, embeddings.grad!.data<float>().ToArray());
        AssertClose($"{headName}, W's gradient", expected.WeightGradient, part.Weight.grad!.data<float>().ToArray());
    }

    [MpiFact]
    public void TwoRanksGiveTheLossAndGradientsOfTheWholeHead()
    {
        string folder = Path.Combine(Path.GetTempPath(), "faceloss-sharded-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        MpiJob.Run(ShardedHeadCase.Ranks, "mpi-sharded-heads", folder);

        int rows = ShardedHeadCase.RowsPerRank * ShardedHeadCase.Ranks;
        var heads = ShardedHeadCase.Heads();
        Assert.Superset(new HashSet<string> { "Softmax", "NormFace", "CosFace", "ArcFace", "CombinedMargin", "SubCenterArcFace" }, heads.Select(h => h.HeadName).ToHashSet());
        foreach (var options in heads)
        {
            var expected = Whole(options, rows);
            int k = options.RowsPerClass;
            for (int rank = 0; rank < ShardedHeadCase.Ranks; rank++)
            {
                var result = JsonSerializer.Deserialize<ShardedHeadResult>(File.ReadAllText(Path.Combine(folder, ShardedHeadCase.FileName(options, rank))))!;
                string what = $"{options.HeadName}, rank {rank}";
                AssertLoss(what, expected.Loss, result.Loss);
                AssertClose($"{what}, embeddings' gradient", expected.EmbeddingGradient, result.EmbeddingGradient);
                var rowsOfShard = expected.WeightGradient.Skip(result.First * k * ShardedHeadCase.EmbeddingSize).Take(result.Count * k * ShardedHeadCase.EmbeddingSize).ToArray();
                AssertClose($"{what}, gradient of W's rows {result.First * k} to {(result.First + result.Count) * k - 1}", rowsOfShard, result.WeightGradient);
            }
        }
    }

    [Fact]
    public void PartialFcOnAShardKeepsTheBatchClassesAndItsShareOfTheOthers()
    {
        var options = new ArcFaceLoss.Options { SampleRate = 0.5 };
        const int classes = 40, rows = 6;
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var head = (ClassifierHead)options.CreateHead(classes, ShardedHeadCase.EmbeddingSize);
        head.train();
        var labels = new long[] { 1, 1, 5, 9, 30, 39 };
        var embeddings = randn(rows, ShardedHeadCase.EmbeddingSize);
        var (surrogate, loss) = new ShardedClassifier(head, ClassShard.Of(classes, 0, 1), SingleProcessCommunicator.Instance).Forward(embeddings, tensor(labels));
        surrogate.backward();

        var rowNorms = head.Weight.grad!.norm(1).data<float>().ToArray();
        var used = Enumerable.Range(0, classes).Where(c => rowNorms[c] > 0).ToList();
        Assert.Equal(20, used.Count); // ceil(0.5 x 40)
        Assert.Superset(labels.Select(l => (int)l).ToHashSet(), used.ToHashSet());
        Assert.True(double.IsFinite(loss) && loss > 0, $"The loss is {loss}.");
    }

    [Theory]
    [InlineData("AdaCos", "statistics of the whole batch")]
    [InlineData("CurricularFace", "the other ranks' classes")]
    [InlineData("MagFace", "regulariser")]
    [InlineData("CenterLoss", "per-class state")]
    [InlineData("Triplet", "no class weights")]
    [InlineData("Contrastive", "no class weights")]
    public void HeadsThatCannotBeShardedAreRefusedWithTheReason(string headName, string reason)
    {
        var options = SyntheticImages.TinyOptions(FaceLossHeads.CreateOptions(headName));
        options.ShardClassWeights = true;
        var error = Assert.Throws<ArgumentException>(() => new MLContext().FaceRecognition().Trainers.Embedding(options));
        Assert.Contains($"The {headName} head cannot train with sharded class weights", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.Contains("ArcFace", error.Message); // the heads that can
        Assert.Equal(nameof(options.ShardClassWeights), error.ParamName);
    }

    [Fact]
    public void SoftmaxWithABiasIsRefusedButWithoutOneIsSharded()
    {
        Assert.Null(new SoftmaxLoss.Options().ShardingLimitation);
        Assert.Contains("set Bias = false", new SoftmaxLoss.Options { Bias = true }.ShardingLimitation);
    }
}
