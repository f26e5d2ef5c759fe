using Microsoft.ML.Data;
namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Aligns a detected face to a template: 68 landmarks, their five alignment points, the
/// least-squares similarity (Umeyama) onto the template's points, and the image resampled through it.
/// </summary>
public static class FaceAligner
{
    /// <summary>
    /// The transform from <paramref name="template"/>'s pixels to the image's, fitted on five points
    /// in the image's pixels (as <see cref="FaceLandmarker.FivePoints"/> gives them).
    /// </summary>
    public static SimilarityTransform TemplateToImage(IReadOnlyList<ImagePoint> fivePoints, AlignmentTemplate template)
    {
        ArgumentNullException.ThrowIfNull(fivePoints);
        ArgumentNullException.ThrowIfNull(template);
        // Landmarks put pixel centres at .5, templates at whole numbers: shift before fitting.
        var image = fivePoints.Select(p => new ImagePoint(p.X - 0.5f, p.Y - 0.5f)).ToList();
        return SimilarityTransform.Estimate(image, template.Points).Inverse();
    }

    /// <summary>The face whose five points are <paramref name="fivePoints"/>, aligned to <paramref name="template"/>.</summary>
    public static MLImage Align(MLImage image, IReadOnlyList<ImagePoint> fivePoints, AlignmentTemplate template)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ImageWarp.Warp(image, TemplateToImage(fivePoints, template), template.Size);
    }
}
