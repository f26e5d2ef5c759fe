using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Locates 68 facial landmarks (the iBUG 300-W points: jaw 0-16, brows 17-26, nose 27-35, eyes
/// 36-47, mouth 48-67) in a detected face with face-api's landmark net, as face-api runs it: the
/// box cropped from the image (clipped at its borders), padded evenly to a square, resized to
/// 112 x 112. Thread-safe (calls are serialized).
/// </summary>
public sealed class FaceLandmarker : IDisposable
{
    /// <summary>The number of landmarks.</summary>
    public const int PointCount = 68;

    private readonly FaceLandmarkNetwork _network;
    private readonly object _lock = new();
    private bool _disposed;

    private FaceLandmarker(FaceLandmarkNetwork network, IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        _network = network;
        Weights = weights;
    }

    /// <summary>The network's weights as read, kept so that a saved model holds them.</summary>
    internal IReadOnlyDictionary<string, TensorFlowJsTensor> Weights { get; }

    /// <summary>Loads the landmark net from face-api's model folder (null: <see cref="PretrainedModels.DefaultFolder"/>).</summary>
    /// <exception cref="FileNotFoundException">The folder lacks <c>face_landmark_68_model-weights_manifest.json</c> or its shard.</exception>
    public static FaceLandmarker Load(string? modelFolder = null)
        => Create(PretrainedModels.ReadFaceApiModel(modelFolder, FaceLandmarkNetwork.ModelName, "AlignFaces"));

    /// <summary>Makes the landmark net from weights already read.</summary>
    internal static FaceLandmarker Create(IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        TorchRuntime.EnsureLoaded();
        var network = new FaceLandmarkNetwork();
        try
        {
            network.Load(weights);
            network.eval();
            return new FaceLandmarker(network, weights);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The 68 landmarks of the face in <paramref name="box"/>, in the image's pixels.</summary>
    /// <exception cref="ArgumentException">The box lies outside the image.</exception>
    public ImagePoint[] Locate(MLImage image, FaceBox box)
    {
        ArgumentNullException.ThrowIfNull(image);
        int left = (int)Math.Clamp(MathF.Floor(box.Left), 0, image.Width), top = (int)Math.Clamp(MathF.Floor(box.Top), 0, image.Height);
        int right = (int)Math.Clamp(MathF.Ceiling(box.Right), 0, image.Width), bottom = (int)Math.Clamp(MathF.Ceiling(box.Bottom), 0, image.Height);
        if (right - left < 2 || bottom - top < 2)
            throw new ArgumentException($"The face box ({box.Left:F1}, {box.Top:F1}, {box.Width:F1} x {box.Height:F1}) lies outside the {image.Width} x {image.Height} image.", nameof(box));
        float[] output;
        float padLeft, padTop;
        int square;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var crop = ImageTensors.Rgb(image, left, top, right - left, bottom - top);
            var (input, pl, pt, side) = ImageTensors.ToSquare(crop, FaceLandmarkNetwork.InputSize, centred: true);
            output = _network.forward(input).contiguous().data<float>().ToArray();
            (padLeft, padTop, square) = (pl, pt, side);
        }
        var points = new ImagePoint[PointCount];
        for (int i = 0; i < PointCount; i++)
            points[i] = new ImagePoint(left - padLeft + output[2 * i] * square, top - padTop + output[2 * i + 1] * square);
        return points;
    }

    /// <summary>
    /// The five points alignment uses, from 68 landmarks: the centre of the eye on the image's left
    /// (points 36-41), of the eye on its right (42-47), the nose tip (30), the mouth corners on the
    /// left (48) and on the right (54).
    /// </summary>
    public static ImagePoint[] FivePoints(IReadOnlyList<ImagePoint> landmarks)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        if (landmarks.Count != PointCount)
            throw new ArgumentException($"Expected the {PointCount} landmarks of FaceLandmarker.Locate, got {landmarks.Count}.", nameof(landmarks));
        ImagePoint Mean(int from, int count)
        {
            float x = 0, y = 0;
            for (int i = from; i < from + count; i++) (x, y) = (x + landmarks[i].X, y + landmarks[i].Y);
            return new ImagePoint(x / count, y / count);
        }
        return new[] { Mean(36, 6), Mean(42, 6), landmarks[30], landmarks[48], landmarks[54] };
    }

    /// <summary>Releases the network's native memory.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _network.Dispose();
        }
    }
}
