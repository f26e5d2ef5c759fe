namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>A point in an image, in pixels from its top-left corner (the centre of the top-left pixel is (0.5, 0.5)).</summary>
/// <param name="X">Pixels to the right.</param>
/// <param name="Y">Pixels down.</param>
public readonly record struct ImagePoint(float X, float Y);
