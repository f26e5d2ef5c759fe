using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Aligns the face of each row to a template: 68 landmarks from face-api's landmark net in the
/// chosen box of <c>DetectFaces</c>, their five points (eye centres, nose tip, mouth corners), the
/// least-squares similarity (Umeyama) onto the template's points, and the image resampled to the
/// template's size. Adds the aligned image, a Boolean "face found" and the five points. A row
/// without a face (no box, or a missing image) gets no aligned image (a missing value: ExtractPixels
/// makes an empty vector of it, which the embedding turns into NaN), FaceFound false and NaN points,
/// never a silent centre crop; each pass logs how many rows had no face. Make it with
/// <c>mlContext.FaceRecognition().Transforms.AlignFaces(...)</c>; saved with the model, the landmark
/// net's weights inside.
/// </summary>
public sealed class AlignFacesTransformer : RowMappingTransformer, ILoadableTransformer<AlignFacesTransformer>, ILoggingTransformer, IDisposable
{
    internal const string LoaderSignature = "FaceLoss.AlignFaces";
    private static readonly TransformerFormat SavedFormat = new("FACEALGN", LoaderSignature, typeof(AlignFacesTransformer));
    private readonly AlignFacesEstimator.Options _options;
    private IHost? _host;
    private long _rows, _withoutFace;

    internal AlignFacesTransformer(AlignFacesEstimator.Options options, FaceLandmarker landmarker, IHostEnvironment? environment)
    {
        CheckNames(options);
        _options = new AlignFacesEstimator.Options
        {
            InputColumnName = options.InputColumnName, BoxesColumnName = options.BoxesColumnName, OutputColumnName = options.OutputColumnName,
            FaceFoundColumnName = options.FaceFoundColumnName, PointsColumnName = options.PointsColumnName, Template = options.Template,
            Selection = options.Selection, ModelFolder = options.ModelFolder,
        };
        Landmarker = landmarker;
        if (environment is not null) AttachLog(environment);
    }

    /// <summary>The image column read.</summary>
    public string InputColumnName => _options.InputColumnName;

    /// <summary>The boxes column read.</summary>
    public string BoxesColumnName => _options.BoxesColumnName;

    /// <summary>The added aligned image column.</summary>
    public string OutputColumnName => _options.OutputColumnName;

    /// <summary>The added Boolean column: whether the row's face was found.</summary>
    public string FaceFoundColumnName => _options.FaceFoundColumnName;

    /// <summary>The added column of the five points in the source image.</summary>
    public string PointsColumnName => _options.PointsColumnName;

    /// <summary>The template the faces are aligned to.</summary>
    public AlignmentTemplate Template => _options.Template;

    /// <summary>Which face is aligned when there are several.</summary>
    public FaceSelection Selection => _options.Selection;

    /// <summary>The landmark net.</summary>
    public FaceLandmarker Landmarker { get; }

    /// <summary>Rows read so far by this transformer's cursors and prediction engines.</summary>
    public long RowsRead => Interlocked.Read(ref _rows);

    /// <summary>Of <see cref="RowsRead"/>, those without a face (FaceFound false).</summary>
    public long RowsWithoutFace => Interlocked.Read(ref _withoutFace);

    void ILoggingTransformer.AttachLog(IHostEnvironment environment) => AttachLog(environment);

    private void AttachLog(IHostEnvironment environment) => _host = environment.Register(nameof(AlignFacesTransformer));

    internal static void CheckNames(AlignFacesEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(options.Template, nameof(options.Template));
        var names = new[] { options.InputColumnName, options.BoxesColumnName, options.OutputColumnName, options.FaceFoundColumnName, options.PointsColumnName };
        foreach (var name in names) ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(options));
        var added = names.Skip(2).ToList();
        if (added.Distinct().Count() != added.Count)
            throw new ArgumentException($"AlignFaces adds three columns and needs three names; got '{string.Join("', '", added)}'.", nameof(options));
        if (!Enum.IsDefined(options.Selection))
            throw new ArgumentOutOfRangeException(nameof(options), options.Selection, "Selection must be MostConfident, Largest or NearestCenter.");
    }

    internal static (int Image, int Boxes) CheckColumns(string imageColumn, string boxesColumn, DataViewSchema schema)
    {
        int image = ImageColumns.Find(schema, imageColumn);
        var boxes = schema.GetColumnOrNull(boxesColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no boxes column '{boxesColumn}'; put DetectFaces before AlignFaces.");
        if (boxes.Type is not VectorDataViewType { ItemType: NumberDataViewType n } || n != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for boxes column '{boxesColumn}': expected Vector<Single> (4 values a face, as DetectFaces writes), got {boxes.Type}.");
        return (image, boxes.Index);
    }

    internal static SchemaShape OutputShape(AlignFacesEstimator.Options options, SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!MLNetInternals.TryFindColumn(inputSchema, options.InputColumnName, out var image))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no image column '{options.InputColumnName}' (LoadImages or LoadImagesWithNetpbm makes one).");
        if (image.Kind != SchemaShape.Column.VectorKind.Scalar || image.ItemType is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for image column '{options.InputColumnName}': expected an image, got {MLNetInternals.TypeString(image)}.");
        if (!MLNetInternals.TryFindColumn(inputSchema, options.BoxesColumnName, out var boxes))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no boxes column '{options.BoxesColumnName}'; put DetectFaces before AlignFaces.");
        if (boxes.Kind == SchemaShape.Column.VectorKind.Scalar || boxes.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for boxes column '{options.BoxesColumnName}': expected Vector<Single> (4 values a face, as DetectFaces writes), got {MLNetInternals.TypeString(boxes)}.");
        var shape = MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(options.OutputColumnName, new ImageDataViewType(options.Template.Size, options.Template.Size)));
        shape = MLNetInternals.With(shape, MLNetInternals.ScalarColumn(options.FaceFoundColumnName, BooleanDataViewType.Instance));
        return MLNetInternals.With(shape, MLNetInternals.VectorColumn(options.PointsColumnName, NumberDataViewType.Single));
    }

    internal override SchemaShape GetOutputSchemaShape(SchemaShape inputSchema) => OutputShape(_options, inputSchema);

    private protected override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new Source(this, inputSchema);

    /// <summary>The face of one row (<paramref name="boxes"/>: 4 values a face), aligned; null where there is none.</summary>
    internal (MLImage? Aligned, ImagePoint[]? Points) Align(MLImage? image, ReadOnlySpan<float> boxes)
    {
        Interlocked.Increment(ref _rows);
        if (image is null || boxes.Length < 4 || Choose(image, boxes) is not { } box)
        {
            Interlocked.Increment(ref _withoutFace);
            return (null, null);
        }
        var five = FaceLandmarker.FivePoints(Landmarker.Locate(image, box));
        return (FaceAligner.Align(image, five, Template), five);
    }

    private FaceBox? Choose(MLImage image, ReadOnlySpan<float> boxes)
    {
        FaceBox? best = null;
        double bestKey = double.NegativeInfinity;
        for (int i = 0; i + 3 < boxes.Length; i += 4)
        {
            var box = new FaceBox(boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3], 1);
            // A box that lies outside the image, or a damaged one, is skipped.
            if (!(box.Width > 1 && box.Height > 1) || box.Right <= 0 || box.Bottom <= 0 || box.Left >= image.Width || box.Top >= image.Height) continue;
            double key = Selection switch
            {
                FaceSelection.Largest => box.Area,
                FaceSelection.NearestCenter => -Math.Pow(box.Left + box.Width / 2 - image.Width / 2.0, 2) - Math.Pow(box.Top + box.Height / 2 - image.Height / 2.0, 2),
                _ => -i,
            };
            if (key > bestKey) (best, bestKey) = (box, key);
        }
        return best;
    }

    private void LogCounts(long rows, long withoutFace)
        => FaceCountPerPass.Log(_host, "AlignFaces", rows, withoutFace,
            $"AlignFaces found no face to align in {withoutFace} of {rows} rows: their '{FaceFoundColumnName}' is false and '{OutputColumnName}' is missing.",
            $"AlignFaces aligned a face in all {rows} rows to {Template}.");

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly AlignFacesTransformer _parent;
        private readonly int _image, _boxes;

        public Source(AlignFacesTransformer parent, DataViewSchema schema)
        {
            _parent = parent;
            (_image, _boxes) = CheckColumns(parent.InputColumnName, parent.BoxesColumnName, schema);
            int size = parent.Template.Size;
            Columns = new[]
            {
                new DataViewSchema.DetachedColumn(parent.OutputColumnName, new ImageDataViewType(size, size)),
                new DataViewSchema.DetachedColumn(parent.FaceFoundColumnName, BooleanDataViewType.Instance),
                new DataViewSchema.DetachedColumn(parent.PointsColumnName, new VectorDataViewType(NumberDataViewType.Single, 10)),
            };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_image], inputSchema[_boxes] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
        {
            var counter = new FaceCountPerPass(_parent.LogCounts);
            resources.Add(counter);
            return MakeGetters(cursor.Input, counter);
        }

        public Func<int, Delegate> MakeRowGetters(DataViewRow input) => MakeGetters(input, null);

        private Func<int, Delegate> MakeGetters(DataViewRow input, FaceCountPerPass? counter)
        {
            var getImage = input.GetGetter<MLImage>(input.Schema[_image]);
            var getBoxes = input.GetGetter<VBuffer<float>>(input.Schema[_boxes]);
            MLImage image = null!;
            VBuffer<float> boxes = default;
            long position = -1;
            MLImage? aligned = null;
            ImagePoint[]? points = null;
            void Update()
            {
                if (position == input.Position) return;
                getImage(ref image);
                getBoxes(ref boxes);
                aligned?.Dispose();
                (aligned, points) = _parent.Align(image, boxes.IsDense ? boxes.GetValues() : boxes.DenseValues().ToArray());
                position = input.Position;
                counter?.Count(aligned is null);
            }
            ValueGetter<MLImage> getAligned = (ref MLImage dst) =>
            {
                Update();
                // Each call hands out its own image: ML.NET's image transforms dispose what they are given.
                dst?.Dispose();
                dst = aligned is null ? null! : MLImage.CreateFromPixels(aligned.Width, aligned.Height, aligned.PixelFormat, aligned.Pixels);
            };
            ValueGetter<bool> getFound = (ref bool dst) =>
            {
                Update();
                dst = aligned is not null;
            };
            ValueGetter<VBuffer<float>> getPoints = (ref VBuffer<float> dst) =>
            {
                Update();
                var editor = VBufferEditor.Create(ref dst, 10);
                for (int i = 0; i < 5; i++)
                {
                    editor.Values[2 * i] = points is null ? float.NaN : points[i].X;
                    editor.Values[2 * i + 1] = points is null ? float.NaN : points[i].Y;
                }
                dst = editor.Commit();
            };
            return index => index switch { 0 => getAligned, 1 => getFound, _ => getPoints };
        }
    }

    /// <summary>Releases the landmark net's native memory.</summary>
    public void Dispose() => Landmarker.Dispose();

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<AlignFacesTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string: image column; string: boxes column; string: output column; string: face-found column;
    // string: points column; string: template name; int: selection; the landmark net's weights (FaceApiWeightsFormat)
    private protected override void Write(ModelWriter writer)
    {
        writer.WriteString(InputColumnName);
        writer.WriteString(BoxesColumnName);
        writer.WriteString(OutputColumnName);
        writer.WriteString(FaceFoundColumnName);
        writer.WriteString(PointsColumnName);
        writer.WriteString(Template.Name);
        writer.Writer.Write((int)Selection);
        FaceApiWeightsFormat.Write(writer.Writer, Landmarker.Weights);
    }

    static AlignFacesTransformer ILoadableTransformer<AlignFacesTransformer>.Read(ModelReader reader)
    {
        var options = new AlignFacesEstimator.Options
        {
            InputColumnName = reader.ReadString(),
            BoxesColumnName = reader.ReadString(),
            OutputColumnName = reader.ReadString(),
            FaceFoundColumnName = reader.ReadString(),
            PointsColumnName = reader.ReadString(),
            Template = AlignmentTemplate.FromName(reader.ReadString()),
        };
        int selection = reader.Reader.ReadInt32();
        if (!Enum.IsDefined((FaceSelection)selection)) throw new InvalidDataException($"The AlignFaces entry names face selection {selection}; the entry is damaged.");
        options.Selection = (FaceSelection)selection;
        var weights = FaceApiWeightsFormat.Read(reader.Reader, "landmark net");
        return new AlignFacesTransformer(options, FaceLandmarker.Create(weights), null);
    }
}
