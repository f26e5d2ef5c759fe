using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss;

/// <summary>The entry point of the library: <c>mlContext.FaceRecognition()</c>.</summary>
public static class FaceRecognitionMLContextExtensions
{
    /// <summary>The face-recognition catalog of <paramref name="mlContext"/>: trainers, transforms, data and model files.</summary>
    public static FaceRecognitionCatalog FaceRecognition(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new FaceRecognitionCatalog(mlContext);
    }
}

/// <summary>
/// Face recognition inside ML.NET: <see cref="Trainers"/> learn embeddings, <see cref="Transforms"/>
/// load images, <see cref="Data"/> reads face data sets, and <see cref="SaveModel"/> /
/// <see cref="LoadModel"/> keep whole pipelines.
/// </summary>
public sealed class FaceRecognitionCatalog
{
    private readonly MLContext _mlContext;

    internal FaceRecognitionCatalog(MLContext mlContext)
    {
        _mlContext = mlContext;
        Trainers = new TrainersCatalog(mlContext);
        Transforms = new TransformsCatalog();
        Data = new DataCatalog(mlContext);
    }

    /// <summary>Trainers of face-embedding networks.</summary>
    public TrainersCatalog Trainers { get; }

    /// <summary>Transforms for face pipelines.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Readers of face data sets.</summary>
    public DataCatalog Data { get; }

    /// <summary>
    /// Saves a model with <c>mlContext.Model.Save</c>, atomically: the file is written beside
    /// <paramref name="path"/> and then moved over it, so a failed save never destroys an earlier model.
    /// </summary>
    public void SaveModel(ITransformer model, DataViewSchema inputSchema, string path)
        => ModelFile.Save(_mlContext, model, inputSchema, path);

    /// <summary>
    /// Loads a model with <c>mlContext.Model.Load</c>; a missing, truncated or corrupt file gives an
    /// exception that names it (<see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/>).
    /// </summary>
    public ITransformer LoadModel(string path, out DataViewSchema inputSchema)
        => ModelFile.Load(_mlContext, path, out inputSchema);

    /// <summary>Trainers of face-embedding networks.</summary>
    public sealed class TrainersCatalog
    {
        private readonly MLContext _mlContext;

        internal TrainersCatalog(MLContext mlContext) => _mlContext = mlContext;

        /// <summary>Trains an embedding network with a loss head.</summary>
        /// <param name="labelColumnName">The key-typed identity column. Default: <c>Label</c>.</param>
        /// <param name="featureColumnName">The column of planar pixels (C x H x W) as <c>ExtractPixels</c> writes it. Default: <c>Features</c>.</param>
        /// <param name="outputColumnName">The added embedding column. Default: <c>Embedding</c>.</param>
        /// <param name="loss">The loss head; null for ArcFace with s = 64, m = 0.5.</param>
        /// <param name="embeddingSize">The length of the embedding. Default: 128.</param>
        /// <param name="epochs">Passes over the data. Default: 10.</param>
        /// <param name="batchSize">Images per step. Default: 64.</param>
        /// <param name="learningRate">The SGD learning rate. Default: 0.1.</param>
        public FaceEmbeddingTrainer Embedding(string labelColumnName = "Label", string featureColumnName = "Features",
            string outputColumnName = "Embedding", FaceLossOptions? loss = null, int embeddingSize = 128, int epochs = 10,
            int batchSize = 64, double learningRate = 0.1)
            => Embedding(new FaceEmbeddingTrainer.Options
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
        public FaceEmbeddingTrainer Embedding(FaceEmbeddingTrainer.Options options)
            => new(_mlContext, options);
    }

    /// <summary>Transforms for face pipelines.</summary>
    public sealed class TransformsCatalog
    {
        internal TransformsCatalog()
        {
        }

        /// <summary>
        /// Loads images from paths like ML.NET's <c>LoadImages</c>, and also reads Netpbm (PGM/PPM) files.
        /// </summary>
        /// <param name="outputColumnName">The added image column.</param>
        /// <param name="imageFolder">The folder relative paths are resolved against; null for paths as they are.</param>
        /// <param name="inputColumnName">The text column of paths; null for <paramref name="outputColumnName"/>.</param>
        public FaceImageLoadingEstimator LoadImages(string outputColumnName, string? imageFolder = null, string? inputColumnName = null)
            => new(outputColumnName, imageFolder, inputColumnName ?? outputColumnName);
    }

    /// <summary>Readers of face data sets.</summary>
    public sealed class DataCatalog
    {
        private readonly MLContext _mlContext;

        internal DataCatalog(MLContext mlContext) => _mlContext = mlContext;

        /// <summary>
        /// Lists a folder with one sub-folder of images per identity as a data view with the text
        /// columns <c>ImagePath</c> (full path) and <c>Identity</c> (the sub-folder's name), ordered by
        /// identity and file name (numbers in natural order).
        /// </summary>
        /// <param name="root">The folder of identity sub-folders.</param>
        /// <param name="options">Extensions, minimum images per identity and an identity filter; null for the defaults.</param>
        public IDataView LoadImageFolder(string root, ImageFolderOptions? options = null)
            => _mlContext.Data.LoadFromEnumerable(ImageFolderReader.Read(root, options ?? new ImageFolderOptions()));
    }
}
