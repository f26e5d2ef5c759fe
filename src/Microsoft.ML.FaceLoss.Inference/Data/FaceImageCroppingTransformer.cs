using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Crops the centre of each image: a share of its width and height, as face benchmarks do with
/// aligned images (LFW deep-funneled: the centre 120 x 120 of 250 x 250, a share of 0.48). Follow it
/// with <c>ResizeImages</c>. Make it with <c>mlContext.Transforms.CropImagesToCenter(...)</c>; saved
/// and loaded with the model.
/// </summary>
public sealed class FaceImageCroppingTransformer : SingleColumnTransformer<MLImage, MLImage>, ILoadableTransformer<FaceImageCroppingTransformer>
{
    /// <summary>The loader's name in files of Microsoft.ML.FaceLoss.Inference (ML.NET finds it there).</summary>
    internal const string LoaderSignature = "FaceLoss.ImageCrop";
    /// <summary>The loader's name in files saved before the split into two assemblies, which name Microsoft.ML.FaceLoss (it declares this name).</summary>
    internal const string LegacyLoaderSignature = "FaceImageCropTransform";
    private static readonly TransformerFormat SavedFormat = new("FACECROP", LoaderSignature, typeof(FaceImageCroppingTransformer), LegacyLoaderSignature);

    internal FaceImageCroppingTransformer(string outputColumnName, string inputColumnName, double share)
        : base(outputColumnName, inputColumnName)
    {
        if (!(share > 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "The crop share must lie in (0, 1].");
        Share = share;
    }

    /// <summary>The share of the width and of the height kept, around the centre.</summary>
    public double Share { get; }

    /// <summary>The centre <see cref="Share"/> of an image.</summary>
    public MLImage Crop(MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = Math.Max(1, (int)Math.Round(image.Width * Share)), height = Math.Max(1, (int)Math.Round(image.Height * Share));
        int left = (image.Width - width) / 2, top = (image.Height - height) / 2;
        int bytesPerPixel = image.BitsPerPixel / 8;
        var source = image.Pixels;
        var pixels = new byte[width * height * bytesPerPixel];
        for (int y = 0; y < height; y++)
            source.Slice(((top + y) * image.Width + left) * bytesPerPixel, width * bytesPerPixel).CopyTo(pixels.AsSpan(y * width * bytesPerPixel));
        return MLImage.CreateFromPixels(width, height, image.PixelFormat, pixels);
    }

    private protected override string InputKind => "image column";

    private protected override string ExpectedInputType => "an image";

    private protected override bool Accepts(DataViewType itemType) => itemType is ImageDataViewType;

    private protected override DataViewType OutputType(DataViewType inputType)
        => inputType is ImageDataViewType { Height: > 0, Width: > 0 } sized
            ? new ImageDataViewType(Math.Max(1, (int)Math.Round(sized.Height * Share)), Math.Max(1, (int)Math.Round(sized.Width * Share)))
            : new ImageDataViewType();

    private protected override DataViewType OutputItemType => new ImageDataViewType();

    private protected override void Map(in MLImage source, ref MLImage cropped, long row)
    {
        cropped?.Dispose();
        cropped = null!;
        if (source is not null) cropped = Crop(source);
    }

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<FaceImageCroppingTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string: output column; string: input column; double: share
    private protected override void Write(ModelWriter writer)
    {
        writer.WriteString(OutputColumnName);
        writer.WriteString(InputColumnName);
        writer.Writer.Write(Share);
    }

    static FaceImageCroppingTransformer ILoadableTransformer<FaceImageCroppingTransformer>.Read(ModelReader reader)
    {
        string output = reader.ReadString(), input = reader.ReadString();
        return new FaceImageCroppingTransformer(output, input, reader.Reader.ReadDouble());
    }
}

/// <summary>The estimator of <see cref="FaceImageCroppingTransformer"/>; it learns nothing.</summary>
public sealed class FaceImageCroppingEstimator : StatelessEstimator<FaceImageCroppingTransformer>
{
    internal FaceImageCroppingEstimator(string outputColumnName, string inputColumnName, double share)
        : base(new FaceImageCroppingTransformer(outputColumnName, inputColumnName, share))
    {
    }
}
