using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>
/// dlib's 29-layer ResNet face descriptor (<c>dlib_face_recognition_resnet_model_v1</c>, as face-api.js
/// runs it): 150 x 150 RGB to a 128-D descriptor. A 7x7 stride-2 convolution and 3x3 max pooling, then
/// residual stages of 32, 64, 128 and 256 channels; every convolution is followed by a per-channel
/// affine scale in place of batch normalization (the network has none); down blocks convolve with
/// stride 2 without padding and add the 2x2 average-pooled input, zero-padded in channels.
/// </summary>
/// <remarks>
/// Takes pixels in [-1, 1] like every pipeline of this library and turns them into the network's own
/// input, (pixel - mean RGB (122.782, 117.001, 104.298)) / 255 on the 0..255 scale.
/// </remarks>
internal sealed class DlibResNet29 : nn.Module<Tensor, Tensor>
{
    /// <summary>The input side the network was trained for, pixels.</summary>
    public const int InputSize = 150;

    /// <summary>The descriptor's length.</summary>
    public const int DescriptorSize = 128;

    /// <summary>The stages that <see cref="Freeze"/> counts: stem and 32, then 64, 128 and 256 channels.</summary>
    public const int StageCount = 4;

    private static readonly double[] MeanRgb = { 122.782, 117.001, 104.298 };

    private readonly ScaledConv conv32_down;
    private readonly MaxPool2d pool;
    private readonly ResidualBlock conv32_1, conv32_2, conv32_3;
    private readonly ResidualDownBlock conv64_down;
    private readonly ResidualBlock conv64_1, conv64_2, conv64_3;
    private readonly ResidualDownBlock conv128_down;
    private readonly ResidualBlock conv128_1, conv128_2;
    private readonly ResidualDownBlock conv256_down;
    private readonly ResidualBlock conv256_1, conv256_2;
    private readonly ResidualDownBlock conv256_down_out;
    private readonly Linear fc;

    public DlibResNet29(int channels, int height, int width, int embeddingSize) : base(nameof(DlibResNet29))
    {
        if (channels != 3 || height != InputSize || width != InputSize)
            throw new ArgumentException($"The DlibResNet29 backbone takes 3 x {InputSize} x {InputSize} RGB images (dlib's face chip), got {channels} x {height} x {width}; resize or align the faces to {InputSize} x {InputSize}.");
        if (embeddingSize != DescriptorSize)
            throw new ArgumentException($"The DlibResNet29 backbone gives {DescriptorSize}-D descriptors; set EmbeddingSize to {DescriptorSize} (got {embeddingSize}).");
        conv32_down = new ScaledConv(3, 32, 7, 2, padding: 0, relu: true);
        pool = nn.MaxPool2d(3, 2);
        conv32_1 = new ResidualBlock(32);
        conv32_2 = new ResidualBlock(32);
        conv32_3 = new ResidualBlock(32);
        conv64_down = new ResidualDownBlock(32, 64);
        conv64_1 = new ResidualBlock(64);
        conv64_2 = new ResidualBlock(64);
        conv64_3 = new ResidualBlock(64);
        conv128_down = new ResidualDownBlock(64, 128);
        conv128_1 = new ResidualBlock(128);
        conv128_2 = new ResidualBlock(128);
        conv256_down = new ResidualDownBlock(128, 256);
        conv256_1 = new ResidualBlock(256);
        conv256_2 = new ResidualBlock(256);
        conv256_down_out = new ResidualDownBlock(256, 256);
        fc = nn.Linear(256, DescriptorSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // [-1, 1] -> (0..255 - mean) / 255 = x / 2 + (127.5 - mean) / 255.
        var offsets = tensor(MeanRgb.Select(m => (float)((127.5 - m) / 255)).ToArray(), dtype: input.dtype, device: input.device).view(1, 3, 1, 1);
        var x = input * 0.5 + offsets;
        x = pool.forward(conv32_down.forward(x));
        x = conv32_3.forward(conv32_2.forward(conv32_1.forward(x)));
        x = conv64_3.forward(conv64_2.forward(conv64_1.forward(conv64_down.forward(x))));
        x = conv128_2.forward(conv128_1.forward(conv128_down.forward(x)));
        x = conv256_2.forward(conv256_1.forward(conv256_down.forward(x)));
        x = conv256_down_out.forward(x);
        return fc.forward(x.mean(new long[] { 2, 3 })).MoveToOuterDisposeScope();
    }

    /// <summary>The modules of each stage, for freezing: stem and 32 channels, 64, 128, 256.</summary>
    private nn.Module[][] Stages => new nn.Module[][]
    {
        new nn.Module[] { conv32_down, conv32_1, conv32_2, conv32_3 },
        new nn.Module[] { conv64_down, conv64_1, conv64_2, conv64_3 },
        new nn.Module[] { conv128_down, conv128_1, conv128_2 },
        new nn.Module[] { conv256_down, conv256_1, conv256_2, conv256_down_out },
    };

    /// <summary>Stops training the first <paramref name="stages"/> stages (0 to <see cref="StageCount"/>): their parameters get no gradient.</summary>
    public void Freeze(int stages)
    {
        if (stages < 0 || stages > StageCount)
            throw new ArgumentOutOfRangeException(nameof(stages), stages, $"DlibResNet29 has {StageCount} stages to freeze (0 freezes none).");
        for (int s = 0; s < StageCount; s++)
            foreach (var module in Stages[s])
                foreach (var parameter in module.parameters())
                    parameter.requires_grad = s >= stages;
    }

    /// <summary>Copies the weights of face-api's <c>face_recognition_model</c> into the network.</summary>
    public void LoadFaceApiWeights(IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        using var noGrad = no_grad();
        conv32_down.Load(weights, "conv32_down");
        foreach (var (block, name) in new (ResidualBlock, string)[]
        {
            (conv32_1, "conv32_1"), (conv32_2, "conv32_2"), (conv32_3, "conv32_3"), (conv64_1, "conv64_1"), (conv64_2, "conv64_2"),
            (conv64_3, "conv64_3"), (conv128_1, "conv128_1"), (conv128_2, "conv128_2"), (conv256_1, "conv256_1"), (conv256_2, "conv256_2"),
        })
            block.Load(weights, name);
        foreach (var (block, name) in new (ResidualDownBlock, string)[]
        {
            (conv64_down, "conv64_down"), (conv128_down, "conv128_down"), (conv256_down, "conv256_down"), (conv256_down_out, "conv256_down_out"),
        })
            block.Load(weights, name);
        // face-api multiplies the pooled 256-vector by fc (256 x 128); a Linear holds the transpose.
        var matrix = Take(weights, "fc", 256, DescriptorSize);
        fc.weight!.copy_(tensor(matrix.Values).view(256, DescriptorSize).t());
    }

    private static TensorFlowJsTensor Take(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string name, params int[] shape)
        => TensorFlowJsWeights.Take(weights, "face_recognition_model", name, shape);

    /// <summary>A convolution with bias, then a per-channel affine scale, then optionally ReLU.</summary>
    private sealed class ScaledConv : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly Parameter scale_weight;
        private readonly Parameter scale_bias;
        private readonly bool relu;
        private readonly int inputs, outputs, kernel;

        public ScaledConv(int inputs, int outputs, int kernel, int stride, int padding, bool relu) : base(nameof(ScaledConv))
        {
            (this.inputs, this.outputs, this.kernel, this.relu) = (inputs, outputs, kernel, relu);
            conv = nn.Conv2d(inputs, outputs, kernel, stride: stride, padding: padding);
            scale_weight = nn.Parameter(ones(outputs));
            scale_bias = nn.Parameter(zeros(outputs));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = conv.forward(input) * scale_weight.view(1, -1, 1, 1) + scale_bias.view(1, -1, 1, 1);
            return (relu ? nn.functional.relu(x) : x).MoveToOuterDisposeScope();
        }

        public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string prefix)
        {
            // TensorFlow stores filters as height, width, in, out; torch as out, in, height, width.
            var filters = Take(weights, $"{prefix}/conv/filters", kernel, kernel, inputs, outputs);
            conv.weight!.copy_(tensor(filters.Values).view(kernel, kernel, inputs, outputs).permute(3, 2, 0, 1));
            conv.bias!.copy_(tensor(Take(weights, $"{prefix}/conv/bias", outputs).Values));
            scale_weight.copy_(tensor(Take(weights, $"{prefix}/scale/weights", outputs).Values));
            scale_bias.copy_(tensor(Take(weights, $"{prefix}/scale/biases", outputs).Values));
        }
    }

    /// <summary>Two 3x3 scaled convolutions (ReLU after the first), the input added, then ReLU.</summary>
    private sealed class ResidualBlock : nn.Module<Tensor, Tensor>
    {
        private readonly ScaledConv conv1;
        private readonly ScaledConv conv2;

        public ResidualBlock(int channels) : base(nameof(ResidualBlock))
        {
            conv1 = new ScaledConv(channels, channels, 3, 1, padding: 1, relu: true);
            conv2 = new ScaledConv(channels, channels, 3, 1, padding: 1, relu: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return nn.functional.relu(conv2.forward(conv1.forward(input)) + input).MoveToOuterDisposeScope();
        }

        public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string prefix)
        {
            conv1.Load(weights, $"{prefix}/conv1");
            conv2.Load(weights, $"{prefix}/conv2");
        }
    }

    /// <summary>
    /// A stride-2 unpadded 3x3 scaled convolution with ReLU, a 3x3 one without, plus the 2x2
    /// average-pooled input (zero channels appended where the width doubles; where the convolution's
    /// output is one row and column smaller, a zero row and column are appended to it), then ReLU.
    /// </summary>
    private sealed class ResidualDownBlock : nn.Module<Tensor, Tensor>
    {
        private readonly ScaledConv conv1;
        private readonly ScaledConv conv2;
        private readonly AvgPool2d pool;

        public ResidualDownBlock(int inputs, int outputs) : base(nameof(ResidualDownBlock))
        {
            conv1 = new ScaledConv(inputs, outputs, 3, 2, padding: 0, relu: true);
            conv2 = new ScaledConv(outputs, outputs, 3, 1, padding: 1, relu: false);
            pool = nn.AvgPool2d(2, 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = conv2.forward(conv1.forward(input));
            var pooled = pool.forward(input);
            if (pooled.shape[2] != x.shape[2] || pooled.shape[3] != x.shape[3])
                x = nn.functional.pad(x, new long[] { 0, 1, 0, 1 });
            if (pooled.shape[1] != x.shape[1])
                pooled = cat(new[] { pooled, zeros_like(pooled) }, 1);
            return nn.functional.relu(x + pooled).MoveToOuterDisposeScope();
        }

        public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string prefix)
        {
            conv1.Load(weights, $"{prefix}/conv1");
            conv2.Load(weights, $"{prefix}/conv2");
        }
    }
}
