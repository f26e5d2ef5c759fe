using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Verification;

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
        Transforms = new TransformsCatalog(mlContext);
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
    /// Loads a face model with <c>mlContext.Model.Load</c>. The file is refused, with an exception that
    /// names it, when it is missing (<see cref="FileNotFoundException"/>), truncated, damaged (its
    /// entries differ from the digest <see cref="SaveModel"/> recorded) or not an ML.NET model, or when
    /// it holds none of this library's steps (an embedding, a gallery or pair scoring: for example
    /// image steps saved without the trained embedding) (<see cref="InvalidDataException"/>).
    /// </summary>
    public ITransformer LoadModel(string path, out DataViewSchema inputSchema)
    {
        var model = ModelFile.Load(_mlContext, path, out inputSchema);
        var steps = Steps(model).ToList();
        if (!steps.Any(s => s is IFaceModelStep))
        {
            (model as IDisposable)?.Dispose();
            throw new InvalidDataException(
                $"The model file '{path}' holds no face embedding, gallery or pair scoring (its steps: {string.Join(", ", steps.Select(s => s.GetType().Name))}): " +
                "it was saved without the trained FaceEmbeddingTransformer. Save the whole fitted pipeline, the one whose last step the trainer made.");
        }
        return model;
    }

    /// <summary>The steps of a model, chains flattened, in order.</summary>
    internal static IEnumerable<ITransformer> Steps(ITransformer model)
        => model is IEnumerable<ITransformer> chain ? chain.SelectMany(Steps) : new[] { model };

    /// <summary>
    /// The verification figures of scored pairs: K-fold accuracy (each fold's threshold chosen on the
    /// other folds), ROC, AUC, EER, TAR at FAR 1e-1/1e-2/1e-3 and the best threshold.
    /// </summary>
    /// <param name="data">Pairs with a label and a score column (for example from <c>ScorePairs</c>).</param>
    /// <param name="labelColumnName">The Boolean "same identity" column. Default: <c>IsSame</c>.</param>
    /// <param name="scoreColumnName">The score column (Single or Double; higher = more alike). Default: <c>Score</c>.</param>
    /// <param name="foldColumnName">An integer column with the protocol's folds; null (or all values negative) assigns <paramref name="folds"/> folds stratified, the i-th same and the i-th different pair to fold i mod K. Default: null.</param>
    /// <param name="folds">The number of folds when they are assigned. Default: 10.</param>
    public VerificationMetrics EvaluateVerification(IDataView data, string labelColumnName = "IsSame", string scoreColumnName = "Score",
        string? foldColumnName = null, int folds = 10)
    {
        ArgumentNullException.ThrowIfNull(data);
        var same = DataViewColumns.Booleans(data, labelColumnName, "label");
        var scores = DataViewColumns.Numbers(data, scoreColumnName, "score");
        List<int>? foldValues = foldColumnName is null ? null : DataViewColumns.Integers(data, foldColumnName, "fold");
        if (foldValues is not null && foldValues.All(f => f < 0)) foldValues = null;
        else if (foldValues is not null && foldValues.Any(f => f < 0))
            throw new ArgumentException($"The fold column '{foldColumnName}' gives some pairs a fold and others none (negative).", nameof(foldColumnName));
        return VerificationMetrics.Compute(scores, same, foldValues, folds);
    }

    /// <summary>
    /// The identification figures of probes identified by <paramref name="gallery"/>: rank-1 and rank-5
    /// accuracy and the CMC curve over probes of enrolled identities, and detection-and-identification
    /// rates at false-positive identification rates over probes of people not enrolled.
    /// </summary>
    /// <param name="identified">Probes transformed by <paramref name="gallery"/>, with their true identity.</param>
    /// <param name="gallery">The identification transformer (its identities tell who is enrolled).</param>
    /// <param name="identityColumnName">The probes' true identity (text, a key or an integer). Default: <c>Identity</c>.</param>
    public IdentificationMetrics EvaluateIdentification(IDataView identified, FaceIdentificationTransformer gallery, string identityColumnName = "Identity")
    {
        ArgumentNullException.ThrowIfNull(identified);
        ArgumentNullException.ThrowIfNull(gallery);
        return IdentificationMetrics.Compute(
            DataViewColumns.Labels(identified, identityColumnName, "identity"),
            DataViewColumns.TextVectors(identified, gallery.TopIdentitiesColumnName, "top identities"),
            DataViewColumns.Numbers(identified, gallery.ScoreColumnName, "identity score"),
            gallery.Identities);
    }

    /// <summary>
    /// Trainers of face-embedding networks: <c>Embedding(...)</c>, from Microsoft.ML.FaceLoss (the
    /// package with TorchSharp), as extension methods in this namespace.
    /// </summary>
    public sealed class TrainersCatalog
    {
        private readonly MLContext _mlContext;

        internal TrainersCatalog(MLContext mlContext) => _mlContext = mlContext;

        /// <summary>The context the trainers are made in (Microsoft.ML.FaceLoss adds them as extension methods).</summary>
        internal MLContext MLContext => _mlContext;
    }

    /// <summary>Transforms for face pipelines.</summary>
    public sealed class TransformsCatalog
    {
        private readonly MLContext _mlContext;

        internal TransformsCatalog(MLContext mlContext) => _mlContext = mlContext;

        internal MLContext MLContext => _mlContext;

        /// <summary>Scores pairs of embeddings (cosine by default) and decides "same identity" against a threshold fitted on labelled pairs.</summary>
        /// <param name="embedding1ColumnName">The first embedding column. Default: <c>Embedding1</c>.</param>
        /// <param name="embedding2ColumnName">The second embedding column. Default: <c>Embedding2</c>.</param>
        /// <param name="labelColumnName">The Boolean "same identity" column the threshold is fitted on. Default: <c>IsSame</c>.</param>
        /// <param name="metric">How embeddings are compared. Default: cosine.</param>
        public PairScoringEstimator ScorePairs(string embedding1ColumnName = "Embedding1", string embedding2ColumnName = "Embedding2",
            string labelColumnName = "IsSame", PairScoreMetric metric = PairScoreMetric.Cosine)
            => ScorePairs(new PairScoringEstimator.Options
            {
                Embedding1ColumnName = embedding1ColumnName, Embedding2ColumnName = embedding2ColumnName, LabelColumnName = labelColumnName, Metric = metric,
            });

        /// <summary>Scores pairs of embeddings with all options (a target false accept rate, a fixed threshold, column names).</summary>
        public PairScoringEstimator ScorePairs(PairScoringEstimator.Options options) => new(options);

        /// <summary>Enrols a gallery for 1:N identification; <c>Fit</c> takes the gallery rows (embedding and text identity).</summary>
        /// <param name="embeddingColumnName">The embedding column. Default: <c>Embedding</c>.</param>
        /// <param name="identityColumnName">The gallery's text identity column. Default: <c>Identity</c>.</param>
        /// <param name="topK">Best identities kept per probe. Default: 5.</param>
        /// <param name="rejectionThreshold">Probes scoring below it are "unknown"; null never rejects. Default: null.</param>
        public GalleryEnrollmentEstimator EnrollGallery(string embeddingColumnName = "Embedding", string identityColumnName = "Identity",
            int topK = 5, double? rejectionThreshold = null)
            => EnrollGallery(new GalleryEnrollmentEstimator.Options
            {
                EmbeddingColumnName = embeddingColumnName, IdentityColumnName = identityColumnName, TopK = topK, RejectionThreshold = rejectionThreshold,
            });

        /// <summary>Enrols a gallery with all options.</summary>
        public GalleryEnrollmentEstimator EnrollGallery(GalleryEnrollmentEstimator.Options options) => new(options);

        /// <summary>
        /// Applies one image model (path -> embedding, for example a trained and saved face pipeline)
        /// to both images of each pair: the result adds <paramref name="embedding1ColumnName"/> and
        /// <paramref name="embedding2ColumnName"/> to the pairs, ready for <see cref="ScorePairs(string, string, string, PairScoreMetric)"/>.
        /// The model must need only the image path column (fit key mappings of the training labels
        /// outside it). The returned chain can be saved.
        /// </summary>
        /// <param name="imageModel">The model that turns <paramref name="imagePathColumnName"/> into <paramref name="embeddingColumnName"/>.</param>
        /// <param name="pairs">The pairs (their schema is used to fit the column copies).</param>
        /// <param name="imagePath1ColumnName">The first image's path. Default: <c>ImagePath1</c>.</param>
        /// <param name="imagePath2ColumnName">The second image's path. Default: <c>ImagePath2</c>.</param>
        /// <param name="embedding1ColumnName">The added first embedding. Default: <c>Embedding1</c>.</param>
        /// <param name="embedding2ColumnName">The added second embedding. Default: <c>Embedding2</c>.</param>
        /// <param name="imagePathColumnName">The model's input column. Default: <c>ImagePath</c>.</param>
        /// <param name="embeddingColumnName">The model's output column. Default: <c>Embedding</c>.</param>
        public TransformerChain<ITransformer> EmbedPairs(ITransformer imageModel, IDataView pairs,
            string imagePath1ColumnName = "ImagePath1", string imagePath2ColumnName = "ImagePath2",
            string embedding1ColumnName = "Embedding1", string embedding2ColumnName = "Embedding2",
            string imagePathColumnName = "ImagePath", string embeddingColumnName = "Embedding")
        {
            ArgumentNullException.ThrowIfNull(imageModel);
            ArgumentNullException.ThrowIfNull(pairs);
            var steps = new List<ITransformer>();
            var view = pairs;
            ITransformer Add(ITransformer step)
            {
                steps.Add(step);
                view = step.Transform(view);
                return step;
            }
            foreach (var (path, embedding) in new[] { (imagePath1ColumnName, embedding1ColumnName), (imagePath2ColumnName, embedding2ColumnName) })
            {
                Add(_mlContext.Transforms.CopyColumns(imagePathColumnName, path).Fit(view));
                Add(imageModel);
                Add(_mlContext.Transforms.CopyColumns(embedding, embeddingColumnName).Fit(view));
            }
            return new TransformerChain<ITransformer>(steps.ToArray());
        }
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

        /// <summary>
        /// Reads a verification protocol's pairs: an LFW list (<c>pairs.txt</c> with 10 folds,
        /// <c>pairsDevTrain.txt</c>, <c>pairsDevTest.txt</c>) or, for a <c>.csv</c> file, lines
        /// <c>path1,path2,same[,fold]</c>; image paths are resolved against <paramref name="imageRoot"/>
        /// and missing images are reported by name.
        /// </summary>
        public FacePairList ReadPairs(string pairsFile, string imageRoot) => ProtocolReaders.ReadPairs(pairsFile, imageRoot);

        /// <summary>
        /// <see cref="ReadPairs"/> as a data view with the columns <c>ImagePath1</c>, <c>ImagePath2</c>,
        /// <c>IsSame</c> (Boolean) and <c>Fold</c> (Int32, -1 where the list has no folds).
        /// </summary>
        public IDataView LoadPairs(string pairsFile, string imageRoot)
            => _mlContext.Data.LoadFromEnumerable(ReadPairs(pairsFile, imageRoot).Pairs
                .Select(p => new FacePairRow { ImagePath1 = p.ImagePath1, ImagePath2 = p.ImagePath2, IsSame = p.IsSame, Fold = p.Fold ?? -1 }).ToList());

        /// <summary>
        /// Synthetic faces (see <see cref="SyntheticFaces"/>) as a data view with the columns <c>Image</c>
        /// (a known-size image), <c>Identity</c>, <c>IdentityIndex</c> and <c>ImageIndex</c>: data that needs no download.
        /// </summary>
        public IDataView LoadSyntheticFaces(SyntheticFaceOptions? options = null)
            => SyntheticFaces.Load(_mlContext, options ?? new SyntheticFaceOptions());

        /// <summary>Writes synthetic faces as PNG files, one sub-folder per identity, for <see cref="LoadImageFolder"/>; returns the number of files.</summary>
        public int WriteSyntheticFaces(string root, SyntheticFaceOptions? options = null)
            => SyntheticFaces.WriteFolder(root, options ?? new SyntheticFaceOptions());

        /// <summary>Reads an LFW people list (<c>people.txt</c> with folds, <c>peopleDevTrain.txt</c>, <c>peopleDevTest.txt</c>).</summary>
        public IReadOnlyList<FacePerson> ReadPeople(string peopleFile) => ProtocolReaders.ReadLfwPeople(peopleFile);
    }
}
