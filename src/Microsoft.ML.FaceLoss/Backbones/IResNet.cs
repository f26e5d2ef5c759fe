using Microsoft.ML.FaceLoss.Backbones.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>ArcFace's improved ResNet (insightface <c>iresnet</c>); see <see cref="FaceBackbone.IResNet50"/>.</summary>
internal sealed class IResNet : nn.Module<Tensor, Tensor>, IExportableModule
{
    private readonly Sequential stem;
    private readonly Sequential layers;
    private readonly EmbeddingNeck neck;

    public IResNet(int[] blocks, int channels, int height, int width, int embeddingSize, int baseWidth, double dropoutRate, int stemStride)
        : base(nameof(IResNet))
    {
        int stride = stemStride > 0 ? stemStride : (Math.Min(height, width) >= 96 ? 1 : 2);
        long h = BackboneCatalog.Down(height, stride), w = BackboneCatalog.Down(width, stride);
        stem = nn.Sequential(
            ("conv", nn.Conv2d(channels, baseWidth, 3, stride: stride, padding: 1, bias: false)),
            ("bn", nn.BatchNorm2d(baseWidth, eps: 1e-5)),
            ("prelu", nn.PReLU(baseWidth, 0.25)));
        var stages = new List<(string, nn.Module<Tensor, Tensor>)>();
        long input = baseWidth;
        for (int stage = 0; stage < blocks.Length; stage++)
        {
            long output = (long)baseWidth << stage;
            for (int block = 0; block < blocks[stage]; block++)
            {
                // As insightface: every stage halves the resolution in its first block's second convolution.
                long blockStride = block == 0 ? 2 : 1;
                stages.Add(($"layer{stage + 1}_{block}", new IBasicBlock(input, output, blockStride)));
                input = output;
                if (blockStride == 2) { h = BackboneCatalog.Down(h, 2); w = BackboneCatalog.Down(w, 2); }
            }
        }
        if (h < 1 || w < 1) throw new ArgumentOutOfRangeException(nameof(height), $"The input {height} x {width} is too small for this IResNet.");
        layers = nn.Sequential(stages);
        neck = new EmbeddingNeck(input, h, w, embeddingSize, dropoutRate);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return neck.forward(layers.forward(stem.forward(input))).MoveToOuterDisposeScope();
    }

    public string WriteGraph(IGraphWriter graph, string input) => graph.Write(neck, graph.Write(layers, graph.Write(stem, input)));

    /// <summary>BN - Conv3x3 - BN - PReLU - Conv3x3 (stride) - BN, plus the (projected) input.</summary>
    private sealed class IBasicBlock : nn.Module<Tensor, Tensor>, IExportableModule
    {
        private readonly Sequential body;
        private readonly Sequential? downsample;

        public IBasicBlock(long input, long output, long stride) : base(nameof(IBasicBlock))
        {
            body = nn.Sequential(
                ("bn1", nn.BatchNorm2d(input, eps: 1e-5)),
                ("conv1", nn.Conv2d(input, output, 3, stride: 1, padding: 1, bias: false)),
                ("bn2", nn.BatchNorm2d(output, eps: 1e-5)),
                ("prelu", nn.PReLU(output, 0.25)),
                ("conv2", nn.Conv2d(output, output, 3, stride: stride, padding: 1, bias: false)),
                ("bn3", nn.BatchNorm2d(output, eps: 1e-5)));
            if (stride != 1 || input != output)
                downsample = nn.Sequential(
                    ("conv", nn.Conv2d(input, output, 1, stride: stride, bias: false)),
                    ("bn", nn.BatchNorm2d(output, eps: 1e-5)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var identity = downsample is null ? input : downsample.forward(input);
            return (body.forward(input) + identity).MoveToOuterDisposeScope();
        }

        public string WriteGraph(IGraphWriter graph, string input)
            => graph.Add(graph.Write(body, input), downsample is null ? input : graph.Write(downsample, input));
    }
}
