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

    /// <summary>
    /// Embeds faces with dlib's pretrained ResNet-29 as it is, no training (its <c>Fit</c> loads the
    /// weights): reads 3 x 150 x 150 RGB pixels in [-1, 1] (<c>ResizeImages</c> to 150 x 150, then
    /// <c>ExtractPixels</c> with <c>scaleImage: 1 / 127.5f, offsetImage: 127.5f</c>) and writes 128-D
    /// L2-normalized embeddings. To fine-tune it, train with <c>Backbone = FaceBackbone.DlibResNet29</c>.
    /// </summary>
    /// <param name="catalog">The face-recognition catalog: <c>mlContext.FaceRecognition()</c>.</param>
    /// <param name="featureColumnName">The pixel column. Default: <c>Features</c>.</param>
    /// <param name="outputColumnName">The added embedding column. Default: <c>Embedding</c>.</param>
    /// <param name="modelFolder">face-api's model folder; null for <see cref="Backbones.PretrainedModels.DefaultFolder"/>.</param>
    /// <param name="flipTest">Whether each face is embedded with its mirror image. Default: false.</param>
    public static Embedding.PretrainedEmbeddingEstimator PretrainedEmbedding(this FaceRecognitionCatalog catalog, string featureColumnName = "Features",
        string outputColumnName = "Embedding", string? modelFolder = null, bool flipTest = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new Embedding.PretrainedEmbeddingEstimator(featureColumnName, outputColumnName, modelFolder, flipTest);
    }

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
