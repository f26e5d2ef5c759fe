using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Loads images from the paths of a text column into an image column that ML.NET's image
/// transforms (<c>ResizeImages</c>, <c>ConvertToGrayscale</c>, <c>ExtractPixels</c>) take. Reads
/// everything ML.NET's own <c>LoadImages</c> reads (JPEG, PNG, BMP, GIF, WebP through SkiaSharp)
/// and Netpbm (PGM/PPM), the format of ORL and Yale B. Make it with
/// <c>mlContext.Transforms.LoadImagesWithNetpbm(...)</c>; saved and loaded with the model.
/// </summary>
public sealed class FaceImageLoadingTransformer : SingleColumnTransformer<ReadOnlyMemory<char>, MLImage>, ILoadableTransformer<FaceImageLoadingTransformer>
{
    /// <summary>The loader's name in files of Microsoft.ML.FaceLoss.Inference (ML.NET finds it there).</summary>
    internal const string LoaderSignature = "FaceLoss.ImageLoad";
    /// <summary>The loader's name in files saved before the split into two assemblies, which name Microsoft.ML.FaceLoss (it declares this name).</summary>
    internal const string LegacyLoaderSignature = "FaceImageLoadTransform";
    private static readonly TransformerFormat SavedFormat = new("FACEIMGL", LoaderSignature, typeof(FaceImageLoadingTransformer), LegacyLoaderSignature);

    internal FaceImageLoadingTransformer(string outputColumnName, string? imageFolder, string inputColumnName)
        : base(outputColumnName, inputColumnName)
        => ImageFolder = string.IsNullOrEmpty(imageFolder) ? null : imageFolder;

    /// <summary>The folder relative paths are resolved against; null for paths as they are.</summary>
    public string? ImageFolder { get; }

    /// <summary>
    /// Loads one image: Netpbm by this library, every other format by SkiaSharp. A file that is empty,
    /// of another format, or cut short (a JPEG without its end marker, a PNG without its end chunk) is
    /// refused with a message that names it and says what is wrong.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it.</exception>
    /// <exception cref="InvalidDataException">The file is not an image that can be read; the message names it and the problem.</exception>
    public static MLImage LoadImage(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' was not found.", path);
        if (NetpbmDecoder.IsNetpbmPath(path)) return NetpbmDecoder.Load(path);
        byte[] bytes = File.ReadAllBytes(path);
        if (ImageFormat.Check(bytes) is { } problem)
            throw new InvalidDataException($"Cannot read the image '{path}': {problem}");
        try
        {
            return MLImage.CreateFromStream(new MemoryStream(bytes));
        }
        catch (Exception e) when (e is not IOException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"Cannot read the image '{path}': the decoder refused it ({e.Message}).", e);
        }
    }

    private protected override string InputKind => "image-path column";

    private protected override string ExpectedInputType => "String";

    private protected override bool Accepts(DataViewType itemType) => itemType is TextDataViewType;

    private protected override DataViewType OutputType(DataViewType inputType) => new ImageDataViewType();

    private protected override DataViewType OutputItemType => new ImageDataViewType();

    private protected override void Map(in ReadOnlyMemory<char> path, ref MLImage image, long row)
    {
        image?.Dispose();
        image = null!;
        if (path.Span.Trim().Length == 0)
            throw new InvalidDataException($"Row {row} has an empty image path in column '{InputColumnName}'. Remove the row, or give the path of its image.");
        string file = path.ToString();
        image = LoadImage(ImageFolder is null ? file : Path.Combine(ImageFolder, file));
    }

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<FaceImageLoadingTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string: output column; string: input column; string or null: image folder
    private protected override void Write(ModelWriter writer)
    {
        writer.WriteString(OutputColumnName);
        writer.WriteString(InputColumnName);
        writer.WriteStringOrNull(ImageFolder);
    }

    static FaceImageLoadingTransformer ILoadableTransformer<FaceImageLoadingTransformer>.Read(ModelReader reader)
    {
        string output = reader.ReadString(), input = reader.ReadString();
        return new FaceImageLoadingTransformer(output, reader.ReadStringOrNull(), input);
    }
}

/// <summary>The estimator of <see cref="FaceImageLoadingTransformer"/>; it learns nothing.</summary>
public sealed class FaceImageLoadingEstimator : StatelessEstimator<FaceImageLoadingTransformer>
{
    internal FaceImageLoadingEstimator(string outputColumnName, string? imageFolder, string inputColumnName)
        : base(new FaceImageLoadingTransformer(outputColumnName, imageFolder, inputColumnName))
    {
    }
}
