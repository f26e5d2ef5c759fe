using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Finds faces in images with face-api's Tiny Face Detector (a YOLO-v2 style network, 193 KB), as
/// face-api runs it: the image padded to a square after its right or bottom edge, resized to
/// <see cref="FaceDetectorOptions.InputSize"/>, boxes decoded from 5 anchors per grid cell, kept
/// above the score threshold, non-maximum suppression. Thread-safe (calls are serialized).
/// </summary>
public sealed class FaceDetector : IDisposable
{
    private readonly TinyFaceDetectorNetwork _network;
    private readonly object _lock = new();
    private bool _disposed;

    private FaceDetector(TinyFaceDetectorNetwork network, FaceDetectorOptions options, IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        _network = network;
        Options = options;
        Weights = weights;
    }

    /// <summary>The settings the detector was made with.</summary>
    public FaceDetectorOptions Options { get; }

    /// <summary>The network's weights as read, kept so that a saved model holds them.</summary>
    internal IReadOnlyDictionary<string, TensorFlowJsTensor> Weights { get; }

    /// <summary>Loads the detector from face-api's model folder (null: <see cref="PretrainedModels.DefaultFolder"/>).</summary>
    /// <exception cref="FileNotFoundException">The folder lacks <c>tiny_face_detector_model-weights_manifest.json</c> or its shard; the message names the folder and where to get the files.</exception>
    public static FaceDetector Load(string? modelFolder = null, FaceDetectorOptions? options = null)
        => Create(PretrainedModels.ReadFaceApiModel(modelFolder, TinyFaceDetectorNetwork.ModelName, "DetectFaces"), options ?? new FaceDetectorOptions());

    /// <summary>Makes the detector from weights already read (from the model folder or a saved model).</summary>
    internal static FaceDetector Create(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, FaceDetectorOptions options)
    {
        options.Validate();
        // A copy: later changes to the caller's options must not change a fitted detector.
        options = new FaceDetectorOptions { InputSize = options.InputSize, ScoreThreshold = options.ScoreThreshold, IouThreshold = options.IouThreshold };
        TorchRuntime.EnsureLoaded();
        var network = new TinyFaceDetectorNetwork();
        try
        {
            network.Load(weights);
            network.eval();
            return new FaceDetector(network, options, weights);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The faces in <paramref name="image"/>, most confident first, in the image's pixels.</summary>
    public IReadOnlyList<FaceBox> Detect(MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int side = Options.InputSize, cells = side / 32, anchors = TinyFaceDetectorNetwork.Anchors.Length;
        float[] grid;
        int square;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (input, _, _, squareSide) = ImageTensors.ToSquare(ImageTensors.Rgb(image), side, centred: false);
            grid = _network.forward(input).contiguous().data<float>().ToArray();
            square = squareSide;
        }

        // The grid is 1 x (anchors * 5) x cells x cells; box coordinates are shares of the padded square.
        var boxes = new List<FaceBox>();
        int plane = cells * cells;
        for (int row = 0; row < cells; row++)
            for (int col = 0; col < cells; col++)
                for (int a = 0; a < anchors; a++)
                {
                    float Value(int k) => grid[(a * 5 + k) * plane + row * cells + col];
                    float score = Sigmoid(Value(4));
                    if (score <= Options.ScoreThreshold) continue;
                    float cx = (col + Sigmoid(Value(0))) / cells, cy = (row + Sigmoid(Value(1))) / cells;
                    float w = MathF.Exp(Value(2)) * TinyFaceDetectorNetwork.Anchors[a].Width / cells;
                    float h = MathF.Exp(Value(3)) * TinyFaceDetectorNetwork.Anchors[a].Height / cells;
                    boxes.Add(new FaceBox((cx - w / 2) * square, (cy - h / 2) * square, w * square, h * square, score));
                }
        return Suppress(boxes, Options.IouThreshold);
    }

    /// <summary>Non-maximum suppression: the most confident boxes first, each dropping those it overlaps by more than <paramref name="iouThreshold"/>.</summary>
    internal static List<FaceBox> Suppress(List<FaceBox> boxes, float iouThreshold)
    {
        var remaining = boxes.OrderByDescending(b => b.Score).ToList();
        var kept = new List<FaceBox>();
        while (remaining.Count > 0)
        {
            var best = remaining[0];
            kept.Add(best);
            remaining = remaining.Skip(1).Where(b => best.IntersectionOverUnion(b) <= iouThreshold).ToList();
        }
        return kept;
    }

    private static float Sigmoid(float x) => 1 / (1 + MathF.Exp(-x));

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
