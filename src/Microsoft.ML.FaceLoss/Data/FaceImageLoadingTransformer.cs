using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Loads images from the paths of a text column into an image column that ML.NET's image
/// transforms (<c>ResizeImages</c>, <c>ConvertToGrayscale</c>, <c>ExtractPixels</c>) take. Reads
/// everything ML.NET's own <c>LoadImages</c> reads (JPEG, PNG, BMP, GIF, WebP through SkiaSharp)
/// and Netpbm (PGM/PPM), the format of ORL and Yale B. Saved and loaded with the model.
/// </summary>
public sealed class FaceImageLoadingTransformer : ITransformer
{
    internal FaceImageLoadingTransformer(string outputColumnName, string? imageFolder, string inputColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        OutputColumnName = outputColumnName;
        ImageFolder = string.IsNullOrEmpty(imageFolder) ? null : imageFolder;
        InputColumnName = inputColumnName;
    }

    /// <summary>The added image column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text column of image paths.</summary>
    public string InputColumnName { get; }

    /// <summary>The folder relative paths are resolved against; null for paths as they are.</summary>
    public string? ImageFolder { get; }

    /// <summary>Always true: each image depends on its own row only.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        => AppendedColumnsDataView.AppendedSchema(inputSchema, new Source(this, inputSchema));

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => new AppendedColumnsDataView(input, new Source(this, input.Schema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new AppendedColumnsRowMapper(inputSchema, new Source(this, inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx) => ImageLoadingTransformerPersistence.Save(ctx, this);

    /// <summary>Loads one image: Netpbm by this library, every other format by SkiaSharp.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it.</exception>
    public static MLImage LoadImage(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' was not found.", path);
        if (NetpbmDecoder.IsNetpbmPath(path)) return NetpbmDecoder.Load(path);
        try
        {
            return MLImage.CreateFromFile(path);
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new InvalidDataException($"Cannot read the image '{path}': {e.Message}", e);
        }
    }

    internal int CheckInputColumn(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no image-path column '{InputColumnName}'.");
        if (column.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for image-path column '{InputColumnName}': expected String, got {column.Type}.");
        return column.Index;
    }

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly FaceImageLoadingTransformer _parent;
        private readonly int _pathIndex;

        public Source(FaceImageLoadingTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _pathIndex = parent.CheckInputColumn(inputSchema);
            Columns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, new ImageDataViewType()) };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_pathIndex] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
            => MakeRowGetters(cursor.Input);

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var getPath = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[_pathIndex]);
            ReadOnlyMemory<char> path = default;
            ValueGetter<MLImage> getter = (ref MLImage image) =>
            {
                image?.Dispose();
                image = null!;
                getPath(ref path);
                if (path.Length == 0) return;
                string file = path.ToString();
                if (_parent.ImageFolder is not null) file = Path.Combine(_parent.ImageFolder, file);
                image = LoadImage(file);
            };
            return _ => getter;
        }
    }
}

/// <summary>The estimator of <see cref="FaceImageLoadingTransformer"/>; it learns nothing.</summary>
public sealed class FaceImageLoadingEstimator : IEstimator<FaceImageLoadingTransformer>
{
    private readonly FaceImageLoadingTransformer _transformer;

    internal FaceImageLoadingEstimator(string outputColumnName, string? imageFolder, string inputColumnName)
        => _transformer = new FaceImageLoadingTransformer(outputColumnName, imageFolder, inputColumnName);

    /// <inheritdoc />
    public FaceImageLoadingTransformer Fit(IDataView input)
    {
        _transformer.CheckInputColumn(input.Schema);
        return _transformer;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!MLNetInternals.TryFindColumn(inputSchema, _transformer.InputColumnName, out var column))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no image-path column '{_transformer.InputColumnName}'.");
        if (column.ItemType is not TextDataViewType || column.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for image-path column '{_transformer.InputColumnName}': expected String, got {column.GetTypeString()}.");
        return MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(_transformer.OutputColumnName, new ImageDataViewType()));
    }
}
