using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Finds the faces in each image of an image column with face-api's Tiny Face Detector and adds two
/// columns: the boxes (Vector&lt;Single&gt; of variable length, 4 values a face: left, top, width,
/// height, in the image's pixels, most confident first) and their scores (one a face, in (0, 1)).
/// An image without a face gets two empty vectors; a missing image too. Make it with
/// <c>mlContext.FaceRecognition().Transforms.DetectFaces(...)</c>; saved with the model, the
/// detector's weights inside.
/// </summary>
public sealed class DetectFacesTransformer : RowMappingTransformer, ILoadableTransformer<DetectFacesTransformer>, ILoggingTransformer, IDisposable
{
    internal const string LoaderSignature = "FaceLoss.DetectFaces";
    private static readonly TransformerFormat SavedFormat = new("FACEDETC", LoaderSignature, typeof(DetectFacesTransformer));
    private IHost? _host;
    private long _images, _withoutFace;

    internal DetectFacesTransformer(DetectFacesEstimator.Options options, FaceDetector detector, IHostEnvironment? environment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.BoxesColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ScoresColumnName);
        if (options.BoxesColumnName == options.ScoresColumnName)
            throw new ArgumentException($"The boxes and the scores need two column names; both are '{options.BoxesColumnName}'.", nameof(options));
        (InputColumnName, BoxesColumnName, ScoresColumnName, Detector) = (options.InputColumnName, options.BoxesColumnName, options.ScoresColumnName, detector);
        if (environment is not null) AttachLog(environment);
    }

    /// <summary>The image column read.</summary>
    public string InputColumnName { get; }

    /// <summary>The added column of boxes: 4 values a face (left, top, width, height; pixels).</summary>
    public string BoxesColumnName { get; }

    /// <summary>The added column of scores: one a face, in the order of the boxes.</summary>
    public string ScoresColumnName { get; }

    /// <summary>The detector, with its settings.</summary>
    public FaceDetector Detector { get; }

    /// <summary>Images read so far by this transformer's cursors and prediction engines.</summary>
    public long ImagesRead => Interlocked.Read(ref _images);

    /// <summary>Of <see cref="ImagesRead"/>, those in which no face was found (or that were missing).</summary>
    public long ImagesWithoutFace => Interlocked.Read(ref _withoutFace);

    void ILoggingTransformer.AttachLog(IHostEnvironment environment) => AttachLog(environment);

    private void AttachLog(IHostEnvironment environment) => _host = environment.Register(nameof(DetectFacesTransformer));

    private int CheckInput(DataViewSchema schema) => ImageColumns.Find(schema, InputColumnName);

    internal override SchemaShape GetOutputSchemaShape(SchemaShape inputSchema) => OutputShape(InputColumnName, BoxesColumnName, ScoresColumnName, inputSchema);

    internal static SchemaShape OutputShape(string inputColumnName, string boxesColumnName, string scoresColumnName, SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!MLNetInternals.TryFindColumn(inputSchema, inputColumnName, out var column))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no image column '{inputColumnName}' (LoadImages or LoadImagesWithNetpbm makes one).");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for image column '{inputColumnName}': expected an image, got {MLNetInternals.TypeString(column)}.");
        var withBoxes = MLNetInternals.With(inputSchema, MLNetInternals.VariableVectorColumn(boxesColumnName, NumberDataViewType.Single));
        return MLNetInternals.With(withBoxes, MLNetInternals.VariableVectorColumn(scoresColumnName, NumberDataViewType.Single));
    }

    private protected override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new Source(this, inputSchema);

    /// <summary>The faces of one image (none for a missing image), counted.</summary>
    internal IReadOnlyList<FaceBox> Detect(MLImage? image)
    {
        var boxes = image is null ? Array.Empty<FaceBox>() : Detector.Detect(image);
        Interlocked.Increment(ref _images);
        if (boxes.Count == 0) Interlocked.Increment(ref _withoutFace);
        return boxes;
    }

    private void LogCounts(long images, long withoutFace)
        => FaceCountPerPass.Log(_host, "DetectFaces", images, withoutFace,
            $"DetectFaces found no face in {withoutFace} of {images} images (their '{BoxesColumnName}' is empty).",
            $"DetectFaces found a face in all {images} images.");

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly DetectFacesTransformer _parent;
        private readonly int _input;

        public Source(DetectFacesTransformer parent, DataViewSchema schema)
        {
            _parent = parent;
            _input = parent.CheckInput(schema);
            var vector = new VectorDataViewType(NumberDataViewType.Single);
            Columns = new[] { new DataViewSchema.DetachedColumn(parent.BoxesColumnName, vector), new DataViewSchema.DetachedColumn(parent.ScoresColumnName, vector) };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_input] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
        {
            var counter = new FaceCountPerPass(_parent.LogCounts);
            resources.Add(counter);
            return MakeGetters(cursor.Input, counter);
        }

        public Func<int, Delegate> MakeRowGetters(DataViewRow input) => MakeGetters(input, null);

        private Func<int, Delegate> MakeGetters(DataViewRow input, FaceCountPerPass? counter)
        {
            var getImage = input.GetGetter<MLImage>(input.Schema[_input]);
            MLImage image = null!;
            long position = -1;
            IReadOnlyList<FaceBox> boxes = Array.Empty<FaceBox>();
            void Update()
            {
                if (position == input.Position) return;
                getImage(ref image);
                boxes = _parent.Detect(image);
                position = input.Position;
                counter?.Count(boxes.Count == 0);
            }
            ValueGetter<VBuffer<float>> getBoxes = (ref VBuffer<float> dst) =>
            {
                Update();
                var editor = VBufferEditor.Create(ref dst, 4 * boxes.Count);
                for (int i = 0; i < boxes.Count; i++)
                {
                    editor.Values[4 * i] = boxes[i].Left;
                    editor.Values[4 * i + 1] = boxes[i].Top;
                    editor.Values[4 * i + 2] = boxes[i].Width;
                    editor.Values[4 * i + 3] = boxes[i].Height;
                }
                dst = editor.Commit();
            };
            ValueGetter<VBuffer<float>> getScores = (ref VBuffer<float> dst) =>
            {
                Update();
                var editor = VBufferEditor.Create(ref dst, boxes.Count);
                for (int i = 0; i < boxes.Count; i++) editor.Values[i] = boxes[i].Score;
                dst = editor.Commit();
            };
            return index => index == 0 ? getBoxes : getScores;
        }
    }

    /// <summary>Releases the detector's native memory.</summary>
    public void Dispose() => Detector.Dispose();

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<DetectFacesTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string: input column; string: boxes column; string: scores column;
    // int: input size; float: score threshold; float: IoU threshold; the detector's weights (FaceApiWeightsFormat)
    private protected override void Write(ModelWriter writer)
    {
        writer.WriteString(InputColumnName);
        writer.WriteString(BoxesColumnName);
        writer.WriteString(ScoresColumnName);
        writer.Writer.Write(Detector.Options.InputSize);
        writer.Writer.Write(Detector.Options.ScoreThreshold);
        writer.Writer.Write(Detector.Options.IouThreshold);
        FaceApiWeightsFormat.Write(writer.Writer, Detector.Weights);
    }

    static DetectFacesTransformer ILoadableTransformer<DetectFacesTransformer>.Read(ModelReader reader)
    {
        var options = new DetectFacesEstimator.Options
        {
            InputColumnName = reader.ReadString(),
            BoxesColumnName = reader.ReadString(),
            ScoresColumnName = reader.ReadString(),
        };
        var detectorOptions = new FaceDetectorOptions { InputSize = reader.Reader.ReadInt32(), ScoreThreshold = reader.Reader.ReadSingle(), IouThreshold = reader.Reader.ReadSingle() };
        var weights = FaceApiWeightsFormat.Read(reader.Reader, "face detector");
        return new DetectFacesTransformer(options, FaceDetector.Create(weights, detectorOptions), null);
    }
}
