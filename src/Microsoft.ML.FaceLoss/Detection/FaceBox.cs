namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>A face found in an image: its box in pixels and the detector's confidence.</summary>
/// <param name="Left">The box's left edge, pixels from the image's left edge.</param>
/// <param name="Top">The box's top edge, pixels from the image's top edge.</param>
/// <param name="Width">The box's width, pixels.</param>
/// <param name="Height">The box's height, pixels.</param>
/// <param name="Score">The detector's confidence that the box holds a face, in (0, 1).</param>
public readonly record struct FaceBox(float Left, float Top, float Width, float Height, float Score)
{
    /// <summary>The box's right edge, pixels.</summary>
    public float Right => Left + Width;

    /// <summary>The box's bottom edge, pixels.</summary>
    public float Bottom => Top + Height;

    /// <summary>The box's area, square pixels.</summary>
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>Intersection over union with <paramref name="other"/>: 0 for disjoint boxes, 1 for equal ones.</summary>
    public float IntersectionOverUnion(FaceBox other)
    {
        float w = Math.Max(0, Math.Min(Right, other.Right) - Math.Max(Left, other.Left));
        float h = Math.Max(0, Math.Min(Bottom, other.Bottom) - Math.Max(Top, other.Top));
        float intersection = w * h, union = Area + other.Area - intersection;
        return union > 0 ? intersection / union : 0;
    }
}
