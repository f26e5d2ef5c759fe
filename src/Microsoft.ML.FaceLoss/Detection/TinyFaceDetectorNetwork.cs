using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// face-api's Tiny Face Detector, a YOLO-v2 style network with depthwise separable convolutions:
/// a square RGB image (side a multiple of 32) to a grid of side / 32 cells, each with 5 anchor boxes
/// of 5 values (x, y, w, h, objectness), channel = anchor * 5 + value.
/// </summary>
internal sealed class TinyFaceDetectorNetwork : nn.Module<Tensor, Tensor>
{
    /// <summary>The model's name in messages and its manifest's stem.</summary>
    public const string ModelName = "tiny_face_detector_model";

    /// <summary>The anchor boxes' widths and heights in grid cells (face-api's BOX_ANCHORS).</summary>
    public static readonly (float Width, float Height)[] Anchors =
    {
        (1.603231f, 2.094468f), (6.041143f, 7.080126f), (2.882459f, 3.518061f), (4.266906f, 5.178857f), (9.041765f, 10.66308f),
    };

    private static readonly double[] MeanRgb = { 117.001, 114.697, 97.404 };
    private static readonly int[] Widths = { 16, 32, 64, 128, 256, 512 };

    private readonly Conv2d conv0;
    private readonly SeparableConv conv1, conv2, conv3, conv4, conv5;
    private readonly Conv2d conv8;
    private readonly MaxPool2d pool;
    private readonly MaxPool2d poolStride1;

    public TinyFaceDetectorNetwork() : base(nameof(TinyFaceDetectorNetwork))
    {
        conv0 = nn.Conv2d(3, Widths[0], 3);
        conv1 = new SeparableConv(Widths[0], Widths[1], 1);
        conv2 = new SeparableConv(Widths[1], Widths[2], 1);
        conv3 = new SeparableConv(Widths[2], Widths[3], 1);
        conv4 = new SeparableConv(Widths[3], Widths[4], 1);
        conv5 = new SeparableConv(Widths[4], Widths[5], 1);
        conv8 = nn.Conv2d(Widths[5], 5 * Anchors.Length, 1);
        // TensorFlow's "same" 2x2 max pooling with stride 2 pads after the last row and column when
        // the size is odd: ceil mode keeps that last window.
        pool = nn.MaxPool2d(2, 2, ceil_mode: true);
        poolStride1 = nn.MaxPool2d(2, 1);
        RegisterComponents();
    }

    /// <summary>Pixels N x 3 x S x S on the 0..255 scale, RGB, to the N x 25 x S/32 x S/32 grid.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(MeanRgb.Select(m => (float)m).ToArray(), dtype: input.dtype, device: input.device).view(1, 3, 1, 1);
        var x = (input - mean) / 255;
        x = pool.forward(Leaky(conv0.forward(x)));
        x = pool.forward(Leaky(conv1.forward(x)));
        x = pool.forward(Leaky(conv2.forward(x)));
        x = pool.forward(Leaky(conv3.forward(x)));
        x = pool.forward(Leaky(conv4.forward(x)));
        // Stride-1 "same" pooling: repeating the last row and column equals TensorFlow's padding, which the maximum ignores.
        x = poolStride1.forward(nn.functional.pad(Leaky(conv5.forward(x)), new long[] { 0, 1, 0, 1 }, PaddingModes.Replicate));
        return conv8.forward(x).MoveToOuterDisposeScope();
    }

    private static Tensor Leaky(Tensor x) => nn.functional.leaky_relu(x, 0.1);

    /// <summary>Copies face-api's <c>tiny_face_detector_model</c> weights into the network.</summary>
    public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        using var noGrad = no_grad();
        FaceApiLayers.LoadConv(conv0, weights, ModelName, "conv0", 3, 3, Widths[0]);
        var separable = new[] { conv1, conv2, conv3, conv4, conv5 };
        for (int i = 0; i < separable.Length; i++) separable[i].Load(weights, ModelName, $"conv{i + 1}");
        FaceApiLayers.LoadConv(conv8, weights, ModelName, "conv8", 1, Widths[5], 5 * Anchors.Length);
    }
}
