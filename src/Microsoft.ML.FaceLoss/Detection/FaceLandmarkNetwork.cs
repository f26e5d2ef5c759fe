using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// face-api's 68-point landmark net (<c>face_landmark_68_model</c>): a 112 x 112 RGB face crop,
/// padded to a square, to 68 (x, y) points as shares of the square's side, interleaved. Four dense
/// blocks of depthwise separable convolutions (32, 64, 128, 256 channels, each halving the size),
/// 7x7 average pooling, a fully connected layer to 136 values.
/// </summary>
internal sealed class FaceLandmarkNetwork : nn.Module<Tensor, Tensor>
{
    /// <summary>The model's name in messages and its manifest's stem.</summary>
    public const string ModelName = "face_landmark_68_model";

    /// <summary>The input side, pixels.</summary>
    public const int InputSize = 112;

    private static readonly double[] MeanRgb = { 122.782, 117.001, 104.298 };

    private readonly DenseBlock dense0, dense1, dense2, dense3;
    private readonly Linear fc;

    public FaceLandmarkNetwork() : base(nameof(FaceLandmarkNetwork))
    {
        dense0 = new DenseBlock(3, 32, firstLayer: true);
        dense1 = new DenseBlock(32, 64, firstLayer: false);
        dense2 = new DenseBlock(64, 128, firstLayer: false);
        dense3 = new DenseBlock(128, 256, firstLayer: false);
        fc = nn.Linear(256, 136);
        RegisterComponents();
    }

    /// <summary>Pixels N x 3 x 112 x 112 on the 0..255 scale, RGB, to N x 136 point coordinates in [0, 1].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(MeanRgb.Select(m => (float)m).ToArray(), dtype: input.dtype, device: input.device).view(1, 3, 1, 1);
        var x = (input - mean) / 255;
        x = dense3.forward(dense2.forward(dense1.forward(dense0.forward(x))));
        x = nn.functional.avg_pool2d(x, 7, 2);
        return fc.forward(x.flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Copies face-api's <c>face_landmark_68_model</c> weights into the network.</summary>
    public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        using var noGrad = no_grad();
        dense0.Load(weights, "dense0");
        dense1.Load(weights, "dense1");
        dense2.Load(weights, "dense2");
        dense3.Load(weights, "dense3");
        var w = TensorFlowJsWeights.Take(weights, ModelName, "fc/weights", 256, 136);
        fc.weight!.copy_(tensor(w.Values).view(256, 136).t());
        fc.bias!.copy_(tensor(TensorFlowJsWeights.Take(weights, ModelName, "fc/bias", 136).Values));
    }

    /// <summary>
    /// A stride-2 convolution (plain in the first block, separable after) with ReLU, then three
    /// separable convolutions, each fed the ReLU of the sum of all outputs before it.
    /// </summary>
    private sealed class DenseBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d? plain;
        private readonly SeparableConv? separable;
        private readonly SeparableConv conv1, conv2, conv3;
        private readonly int inputs, outputs;

        public DenseBlock(int inputs, int outputs, bool firstLayer) : base(nameof(DenseBlock))
        {
            (this.inputs, this.outputs) = (inputs, outputs);
            if (firstLayer) plain = nn.Conv2d(inputs, outputs, 3, stride: 2);
            else separable = new SeparableConv(inputs, outputs, 2);
            conv1 = new SeparableConv(outputs, outputs, 1);
            conv2 = new SeparableConv(outputs, outputs, 1);
            conv3 = new SeparableConv(outputs, outputs, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var out1 = nn.functional.relu(plain is not null ? plain.forward(FaceApiLayers.PadSame3x3(input, 2)) : separable!.forward(input));
            var out2 = conv1.forward(out1);
            var out3 = conv2.forward(nn.functional.relu(out1 + out2));
            var out4 = conv3.forward(nn.functional.relu(out1 + out2 + out3));
            return nn.functional.relu(out1 + out2 + out3 + out4).MoveToOuterDisposeScope();
        }

        public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string prefix)
        {
            if (plain is not null) FaceApiLayers.LoadConv(plain, weights, ModelName, $"{prefix}/conv0", 3, inputs, outputs);
            else separable!.Load(weights, ModelName, $"{prefix}/conv0");
            conv1.Load(weights, ModelName, $"{prefix}/conv1");
            conv2.Load(weights, ModelName, $"{prefix}/conv2");
            conv3.Load(weights, ModelName, $"{prefix}/conv3");
        }
    }
}
