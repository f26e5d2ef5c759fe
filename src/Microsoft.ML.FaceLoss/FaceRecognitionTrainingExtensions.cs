using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss;

/// <summary>
/// What Microsoft.ML.FaceLoss (the package with TorchSharp) adds to <c>mlContext.FaceRecognition()</c>:
/// the embedding trainer and the retrieval figures (their search is a LibTorch matrix product).
/// </summary>
public static class FaceRecognitionTrainingExtensions
{
    /// <summary>Trains an embedding network with a loss head.</summary>
    /// <param name="catalog">The face-recognition trainers: <c>mlContext.FaceRecognition().Trainers</c>.</param>
    /// <param name="labelColumnName">The key-typed identity column. Default: <c>Label</c>.</param>
    /// <param name="featureColumnName">The column of planar pixels (C x H x W) as <c>ExtractPixels</c> writes it. Default: <c>Features</c>.</param>
    /// <param name="outputColumnName">The added embedding column. Default: <c>Embedding</c>.</param>
    /// <param name="loss">The loss head; null for ArcFace with s = 64, m = 0.5.</param>
    /// <param name="embeddingSize">The length of the embedding. Default: 128.</param>
    /// <param name="epochs">Passes over the data. Default: 10.</param>
    /// <param name="batchSize">Images per step. Default: 64.</param>
    /// <param name="learningRate">The SGD learning rate. Default: 0.1.</param>
    public static FaceEmbeddingTrainer Embedding(this FaceRecognitionCatalog.TrainersCatalog catalog, string labelColumnName = "Label", string featureColumnName = "Features",
        string outputColumnName = "Embedding", FaceLossOptions? loss = null, int embeddingSize = 128, int epochs = 10,
        int batchSize = 64, double learningRate = 0.1)
        => catalog.Embedding(new FaceEmbeddingTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            OutputColumnName = outputColumnName,
            Loss = loss ?? new ArcFaceLoss.Options(),
            EmbeddingSize = embeddingSize,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        });

    /// <summary>Trains an embedding network with all options.</summary>
    /// <param name="catalog">The face-recognition trainers: <c>mlContext.FaceRecognition().Trainers</c>.</param>
    /// <param name="options">Every setting of the trainer.</param>
    public static FaceEmbeddingTrainer Embedding(this FaceRecognitionCatalog.TrainersCatalog catalog, FaceEmbeddingTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(catalog.MLContext, options);
    }

    /// <summary>
    /// Retrieval figures over a labelled embedding set (each item a query against all others, itself
    /// excluded): precision@1, R-precision and MAP@R.
    /// </summary>
    /// <param name="catalog">The face-recognition catalog: <c>mlContext.FaceRecognition()</c>.</param>
    /// <param name="data">Rows with an embedding and a label.</param>
    /// <param name="embeddingColumnName">The embedding column. Default: <c>Embedding</c>.</param>
    /// <param name="labelColumnName">The label (text, a key or an integer). Default: <c>Identity</c>.</param>
    public static RetrievalMetrics EvaluateRetrieval(this FaceRecognitionCatalog catalog, IDataView data, string embeddingColumnName = "Embedding", string labelColumnName = "Identity")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        return RetrievalMetrics.Compute(DataViewColumns.Vectors(data, embeddingColumnName), DataViewColumns.Labels(data, labelColumnName, "label"));
    }
}
