namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Where five face points land in an aligned face image: the centre of the eye on the image's left,
/// of the eye on its right, the nose tip, the mouth corner on the left, on the right (the order of
/// <see cref="FaceLandmarker.FivePoints"/>). Coordinates in pixels of a <see cref="Size"/> x
/// <see cref="Size"/> image, with pixel centres at whole numbers (OpenCV's and dlib's convention).
/// </summary>
public sealed class AlignmentTemplate
{
    private AlignmentTemplate(string name, int size, ImagePoint[] points) => (Name, Size, Points) = (name, size, points);

    /// <summary>The template's name, as saved in models.</summary>
    public string Name { get; }

    /// <summary>The side of the aligned image, pixels.</summary>
    public int Size { get; }

    /// <summary>The five target points.</summary>
    public IReadOnlyList<ImagePoint> Points { get; }

    /// <summary>
    /// insightface's 112 x 112 ArcFace template (<c>arcface_dst</c> in insightface's
    /// <c>face_align.py</c>), the input of ArcFace-trained networks (IResNet, MobileFaceNet).
    /// </summary>
    public static AlignmentTemplate Insightface112 { get; } = new("insightface112", 112, new[]
    {
        new ImagePoint(38.2946f, 51.6963f), new ImagePoint(73.5318f, 51.5014f), new ImagePoint(56.0252f, 71.7366f),
        new ImagePoint(41.5493f, 92.3655f), new ImagePoint(70.7299f, 92.2041f),
    });

    /// <summary>
    /// dlib's 150 x 150 face chip with padding 0.25, the input of dlib's ResNet-29 descriptor
    /// (<c>get_face_chip_details(shape, 150, 0.25)</c>): the five points of dlib's mean face shape
    /// (<c>interpolation.h</c>: eye centres as the means of points 36-41 and 42-47, nose tip 30,
    /// mouth corners 48 and 54), each mapped by (padding + v) / (1 + 2 padding) * 150.
    /// </summary>
    public static AlignmentTemplate Dlib150 { get; } = new("dlib150", 150, DlibPoints());

    /// <summary>The template named <paramref name="name"/> (<c>insightface112</c> or <c>dlib150</c>).</summary>
    public static AlignmentTemplate FromName(string name) => name switch
    {
        "insightface112" => Insightface112,
        "dlib150" => Dlib150,
        _ => throw new InvalidDataException($"Unknown alignment template '{name}'; known: insightface112, dlib150."),
    };

    private static ImagePoint[] DlibPoints()
    {
        // dlib's mean face shape (interpolation.h), x and y of the points used, in [0, 1].
        double[] leftEyeX = { 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743 };
        double[] leftEyeY = { 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077 };
        double[] rightEyeX = { 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335 };
        double[] rightEyeY = { 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099 };
        const double padding = 0.25, size = 150;
        ImagePoint Chip(double x, double y) => new((float)((padding + x) / (1 + 2 * padding) * size), (float)((padding + y) / (1 + 2 * padding) * size));
        return new[]
        {
            Chip(leftEyeX.Average(), leftEyeY.Average()), Chip(rightEyeX.Average(), rightEyeY.Average()), Chip(0.490127, 0.515625),
            Chip(0.254149, 0.780233), Chip(0.726104, 0.780233),
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Size} x {Size})";
}
