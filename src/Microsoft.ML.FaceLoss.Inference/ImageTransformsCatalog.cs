using Microsoft.ML.FaceLoss.Data;

namespace Microsoft.ML.FaceLoss;

/// <summary>
/// The image transforms of this library on <c>mlContext.Transforms</c>, beside ML.NET's own
/// <c>LoadImages</c>, <c>ResizeImages</c> and <c>ExtractPixels</c>.
/// </summary>
public static class ImageTransformsCatalog
{
    /// <summary>
    /// Loads images from paths like ML.NET's <c>LoadImages</c>, and also reads Netpbm (binary and
    /// plain PGM and PPM: ORL, Yale B), which SkiaSharp cannot. Saved with the model.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The added image column.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against; null for paths as they are.</param>
    /// <param name="inputColumnName">The text column of paths; null for <paramref name="outputColumnName"/>.</param>
    public static FaceImageLoadingEstimator LoadImagesWithNetpbm(this TransformsCatalog catalog, string outputColumnName,
        string? imageFolder = null, string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FaceImageLoadingEstimator(outputColumnName, imageFolder, inputColumnName ?? outputColumnName);
    }

    /// <summary>
    /// Crops the centre <paramref name="share"/> of each image's width and height (LFW deep-funneled:
    /// 0.48, the centre 120 x 120 of 250 x 250); follow it with <c>ResizeImages</c>. Saved with the model.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The added cropped image column.</param>
    /// <param name="share">The share kept, in (0, 1].</param>
    /// <param name="inputColumnName">The image column; null for <paramref name="outputColumnName"/>.</param>
    public static FaceImageCroppingEstimator CropImagesToCenter(this TransformsCatalog catalog, string outputColumnName, double share,
        string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FaceImageCroppingEstimator(outputColumnName, inputColumnName ?? outputColumnName, share);
    }
}
