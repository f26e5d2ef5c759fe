using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>
/// The training that the data-parallel tests run as 2 ranks and as one process: 320 synthetic images
/// of 16 identities, batches of 32, so an epoch is 10 batches, 5 steps of 2 micro-batches; 4 epochs
/// are 20 steps. ArcFace (small-data preset), a SmallCnn with batch normalisation, one torch thread.
/// </summary>
/// <remarks>
/// With sharded class weights the softmax is summed in another order, so the runs differ by float
/// rounding at every step; normalized heads on this tiny network amplify that (a learning rate changed
/// by one part in a million moves CosFace's weights by 5e-3 after 20 steps, measured), softmax does
/// not (6e-7). The sharded training runs softmax; the heads' own equivalence is tested step by step
/// (<see cref="ShardedClassifierTests"/>). Plain data-parallel ranks compute what one process does, up to
/// the order of one sum of two gradients.
/// </remarks>
internal static class DataParallelCase
{
    public const int Ranks = 2, Epochs = 4, StepsPerEpoch = 5;

    public static IDataView Data(MLContext ml, int seed = 7) => SyntheticImages.Load(ml, identities: 16, perIdentity: 20, seed: seed);

    public static FaceEmbeddingTrainer.Options Options(DistributedMode mode, int microBatches, bool shard, int epochs = Epochs, string? checkpoints = null)
    {
        FaceLossOptions loss = shard ? new SoftmaxLoss.Options() : new ArcFaceLoss.Options();
        loss.ApplySmallDataPreset();
        return new FaceEmbeddingTrainer.Options
        {
            EmbeddingSize = 8,
            BackboneWidth = 4,
            Loss = loss,
            Epochs = epochs,
            BatchSize = 32,
            LearningRate = 0.05,
            Seed = 11,
            NumberOfThreads = 1,
            Distributed = mode,
            GradientAccumulationSteps = microBatches,
            ShardClassWeights = shard,
            CheckpointFolder = checkpoints,
        };
    }

    /// <summary>The network's learnable parameters by name (batch normalisation's running statistics are buffers, not compared).</summary>
    public static Dictionary<string, float[]> Parameters(ITransformer model)
    {
        var embedding = ((IEnumerable<ITransformer>)model).OfType<FaceEmbeddingTransformer>().Single();
        return embedding.Network.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }
}

/// <summary>
/// The sharded-head equivalence case: 16 rows (8 per rank of 2) of 6-D embeddings over 10 identities,
/// every head that can be sharded, W and the inputs drawn from fixed seeds.
/// </summary>
internal static class ShardedHeadCase
{
    public const int Classes = 10, EmbeddingSize = 6, RowsPerRank = 8, Ranks = 2;
    private const int Seed = 5;

    /// <summary>The default options of every registered head whose class weights can be sharded.</summary>
    public static IReadOnlyList<FaceLossOptions> Heads()
        => FaceLossHeads.Names.Select(FaceLossHeads.CreateOptions).Where(o => o.ShardingLimitation is null).ToList();

    /// <summary>The embeddings (rows x D, rank 0's rows first) and labels (both shards, repeated identities).</summary>
    public static (float[] Embeddings, long[] Labels) Inputs(int rows)
    {
        var random = new Random(Seed);
        var embeddings = Enumerable.Range(0, rows * EmbeddingSize).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (long)(i * 7 % Classes)).ToArray();
        return (embeddings, labels);
    }

    /// <summary>The whole head, W drawn from the case's seed, in training mode.</summary>
    public static ClassifierHead WholeHead(FaceLossOptions options)
    {
        manual_seed(Seed);
        var head = (ClassifierHead)options.CreateHead(Classes, EmbeddingSize);
        head.train();
        return head;
    }

    /// <summary>This rank's head: W's rows of the shard copied from the whole head's.</summary>
    public static ClassifierHead ShardHead(FaceLossOptions options, ClassifierHead whole, ClassShard shard)
    {
        var head = (ClassifierHead)options.CreateHead(shard.Count, EmbeddingSize);
        int k = options.RowsPerClass;
        using (var rows = whole.Weight.detach().narrow(0, (long)shard.First * k, (long)shard.Count * k)) head.SetWeight(rows);
        head.train();
        return head;
    }

    public static string FileName(FaceLossOptions options, int rank) => $"{options.HeadName}-rank{rank}.json";
}
