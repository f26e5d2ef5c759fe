using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Crops the centre of each image: a share of its width and height, as face benchmarks do with
/// aligned images (LFW deep-funneled: the centre 120 x 120 of 250 x 250, a share of 0.48). Follow it
/// with <c>ResizeImages</c>. Saved and loaded with the model.
/// </summary>
public sealed class FaceImageCroppingTransformer : ITransformer
{
    internal FaceImageCroppingTransformer(string outputColumnName, string inputColumnName, double share)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        if (!(share > 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "The crop share must lie in (0, 1].");
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Share = share;
    }

    /// <summary>The added (cropped) image column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The image column to crop.</summary>
    public string InputColumnName { get; }

    /// <summary>The share of the width and of the height kept, around the centre.</summary>
    public double Share { get; }

    /// <summary>Always true.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => AppendedColumnsDataView.AppendedSchema(inputSchema, new Source(this, inputSchema));

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => new AppendedColumnsDataView(input, new Source(this, input.Schema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new AppendedColumnsRowMapper(inputSchema, new Source(this, inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx) => ImageCroppingTransformerPersistence.Save(ctx, this);

    /// <summary>The centre <see cref="Share"/> of an image.</summary>
    public MLImage Crop(MLImage image)
    {
        int width = Math.Max(1, (int)Math.Round(image.Width * Share)), height = Math.Max(1, (int)Math.Round(image.Height * Share));
        int left = (image.Width - width) / 2, top = (image.Height - height) / 2;
        int bytesPerPixel = image.BitsPerPixel / 8;
        var source = image.Pixels;
        var pixels = new byte[width * height * bytesPerPixel];
        for (int y = 0; y < height; y++)
            source.Slice(((top + y) * image.Width + left) * bytesPerPixel, width * bytesPerPixel).CopyTo(pixels.AsSpan(y * width * bytesPerPixel));
        return MLImage.CreateFromPixels(width, height, image.PixelFormat, pixels);
    }

    internal int CheckInputColumn(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no image column '{InputColumnName}'.");
        if (column.Type is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for image column '{InputColumnName}': expected an image, got {column.Type}.");
        return column.Index;
    }

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly FaceImageCroppingTransformer _parent;
        private readonly int _imageIndex;

        public Source(FaceImageCroppingTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _imageIndex = parent.CheckInputColumn(inputSchema);
            var input = (ImageDataViewType)inputSchema[_imageIndex].Type;
            var type = input.Height > 0 && input.Width > 0
                ? new ImageDataViewType(Math.Max(1, (int)Math.Round(input.Height * parent.Share)), Math.Max(1, (int)Math.Round(input.Width * parent.Share)))
                : new ImageDataViewType();
            Columns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, type) };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_imageIndex] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
            => MakeRowGetters(cursor.Input);

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var getImage = input.GetGetter<MLImage>(input.Schema[_imageIndex]);
            MLImage source = null!;
            ValueGetter<MLImage> getter = (ref MLImage value) =>
            {
                value?.Dispose();
                value = null!;
                getImage(ref source);
                if (source is not null) value = _parent.Crop(source);
            };
            return _ => getter;
        }
    }
}

/// <summary>The estimator of <see cref="FaceImageCroppingTransformer"/>; it learns nothing.</summary>
public sealed class FaceImageCroppingEstimator : IEstimator<FaceImageCroppingTransformer>
{
    private readonly FaceImageCroppingTransformer _transformer;

    internal FaceImageCroppingEstimator(string outputColumnName, string inputColumnName, double share)
        => _transformer = new FaceImageCroppingTransformer(outputColumnName, inputColumnName, share);

    /// <inheritdoc />
    public FaceImageCroppingTransformer Fit(IDataView input)
    {
        _transformer.CheckInputColumn(input.Schema);
        return _transformer;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!MLNetInternals.TryFindColumn(inputSchema, _transformer.InputColumnName, out var column) || column.ItemType is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input needs the image column '{_transformer.InputColumnName}'.");
        return MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(_transformer.OutputColumnName, new ImageDataViewType()));
    }
}
