namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>Settings of the Tiny Face Detector.</summary>
public sealed class FaceDetectorOptions
{
    /// <summary>
    /// The side, pixels, the image is resized to (after padding it to a square); a multiple of 32.
    /// Larger finds smaller faces, slower. Default: 416 (face-api's default).
    /// </summary>
    public int InputSize = 416;

    /// <summary>The least confidence, in (0, 1), of a box that is kept. Default: 0.5 (face-api's default).</summary>
    public float ScoreThreshold = 0.5f;

    /// <summary>
    /// Boxes that overlap a more confident one by more than this intersection over union are dropped
    /// (non-maximum suppression). Default: 0.4 (face-api's).
    /// </summary>
    public float IouThreshold = 0.4f;

    /// <summary>Checks the settings; the exception names the one out of range.</summary>
    internal void Validate()
    {
        if (InputSize < 32 || InputSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be a positive multiple of 32 (face-api uses 128 to 608; default 416).");
        if (!(ScoreThreshold > 0 && ScoreThreshold < 1))
            throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), ScoreThreshold, "ScoreThreshold must lie in (0, 1).");
        if (!(IouThreshold > 0 && IouThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(IouThreshold), IouThreshold, "IouThreshold must lie in (0, 1].");
    }
}
