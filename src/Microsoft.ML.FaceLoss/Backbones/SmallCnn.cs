using Microsoft.ML.FaceLoss.Backbones.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>The <see cref="FaceBackbone.SmallCnn"/> network (see there).</summary>
internal sealed class SmallCnn : nn.Module<Tensor, Tensor>, IExportableModule
{
    private readonly Sequential body;
    private readonly EmbeddingNeck neck;

    public SmallCnn(int channels, int height, int width, int embeddingSize, int baseWidth, double dropoutRate)
        : base(nameof(SmallCnn))
    {
        if (height < 8 || width < 8)
            throw new ArgumentOutOfRangeException(nameof(height), $"The SmallCnn backbone needs images of at least 8 x 8 pixels, got {height} x {width}.");
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        layers.AddRange(ConvBnPrelu("stem", channels, baseWidth, stride: 1));
        long inWidth = baseWidth, h = height, w = width;
        for (int stage = 0; stage < 3; stage++)
        {
            long outWidth = (long)baseWidth << stage;
            layers.AddRange(ConvBnPrelu($"stage{stage}_down", inWidth, outWidth, stride: 2));
            layers.AddRange(ConvBnPrelu($"stage{stage}_conv", outWidth, outWidth, stride: 1));
            inWidth = outWidth;
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        body = nn.Sequential(layers);
        neck = new EmbeddingNeck(inWidth, h, w, embeddingSize, dropoutRate);
        RegisterComponents();
    }

    private static IEnumerable<(string, nn.Module<Tensor, Tensor>)> ConvBnPrelu(string name, long input, long output, long stride)
    {
        yield return (name + "_conv", nn.Conv2d(input, output, kernel_size: 3, stride: stride, padding: 1, bias: false));
        yield return (name + "_bn", nn.BatchNorm2d(output, eps: 1e-5));
        yield return (name + "_prelu", nn.PReLU(output, init: 0.25));
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return neck.forward(body.forward(input)).MoveToOuterDisposeScope();
    }

    public string WriteGraph(IGraphWriter graph, string input) => graph.Write(neck, graph.Write(body, input));
}
