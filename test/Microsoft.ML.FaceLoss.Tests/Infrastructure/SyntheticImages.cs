using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>Tiny in-memory pixel data with key labels, for fast trainer tests.</summary>
public static class SyntheticImages
{
    public const int Channels = 1, Size = 8;

    public sealed class Row
    {
        [VectorType(Channels, Size, Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    /// <summary><paramref name="identities"/> classes, each a fixed random pattern plus noise.</summary>
    public static List<Row> Rows(int identities, int perIdentity, int seed = 3)
    {
        var random = new Random(seed);
        var rows = new List<Row>();
        for (int id = 0; id < identities; id++)
        {
            var pattern = Enumerable.Range(0, Channels * Size * Size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            for (int k = 0; k < perIdentity; k++)
                rows.Add(new Row { Identity = $"id{id}", Features = pattern.Select(v => v + (float)(random.NextDouble() - 0.5) * 0.3f).ToArray() });
        }
        return rows;
    }

    public static IDataView Load(MLContext ml, int identities = 6, int perIdentity = 6, int seed = 3)
        => ml.Data.LoadFromEnumerable(Rows(identities, perIdentity, seed));

    public static FaceEmbeddingTrainer.Options TinyOptions(FaceLossOptions? loss = null, int epochs = 2) => new()
    {
        EmbeddingSize = 8,
        BackboneWidth = 4,
        Loss = loss ?? new SoftmaxLoss.Options(),
        Epochs = epochs,
        BatchSize = 12,
        LearningRate = 0.05,
        Seed = 11,
    };

    /// <summary>MapValueToKey then the trainer.</summary>
    public static EstimatorChain<FaceLoss.Embedding.FaceEmbeddingTransformer> Pipeline(MLContext ml, FaceEmbeddingTrainer.Options options)
        => ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Append(ml.FaceRecognition().Trainers.Embedding(options));
}
