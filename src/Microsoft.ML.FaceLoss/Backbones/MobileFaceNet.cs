using Microsoft.ML.FaceLoss.Backbones.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>MobileFaceNet (Chen et al. 2018); see <see cref="FaceBackbone.MobileFaceNet"/>.</summary>
internal sealed class MobileFaceNet : nn.Module<Tensor, Tensor>, IExportableModule
{
    // (expansion t, output channels as a multiple of w/64 * c, repeats n, stride s) of the paper's table 1.
    private static readonly (int T, int C, int N, int S)[] Bottlenecks =
    {
        (2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1),
    };

    private readonly Sequential body;
    private readonly Sequential head;

    public MobileFaceNet(int channels, int height, int width, int embeddingSize, int baseWidth) : base(nameof(MobileFaceNet))
    {
        long Scale(int c) => Math.Max(8, (long)c * baseWidth / 64);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long w0 = Scale(64);
        layers.Add(("conv1", ConvBlock(channels, w0, 3, 2, 1, groups: 1, linear: false)));
        layers.Add(("dw_conv1", ConvBlock(w0, w0, 3, 1, 1, groups: w0, linear: false)));
        long h = BackboneCatalog.Down(height, 2), w = BackboneCatalog.Down(width, 2);
        long input = w0;
        int index = 0;
        foreach (var (t, c, n, s) in Bottlenecks)
        {
            long output = Scale(c);
            for (int i = 0; i < n; i++)
            {
                long stride = i == 0 ? s : 1;
                layers.Add(($"bottleneck{index++}", new Bottleneck(input, output, stride, t)));
                input = output;
                if (stride == 2) { h = BackboneCatalog.Down(h, 2); w = BackboneCatalog.Down(w, 2); }
            }
        }
        long last = Scale(512);
        layers.Add(("conv2", ConvBlock(input, last, 1, 1, 0, groups: 1, linear: false)));
        body = nn.Sequential(layers);
        // Global depthwise convolution over the whole last feature map, then a linear 1x1 to D.
        head = nn.Sequential(
            ("gdconv", ConvBlock(last, last, (h, w), 1, 0, groups: last, linear: true)),
            ("linear", ConvBlock(last, embeddingSize, 1, 1, 0, groups: 1, linear: true)),
            ("flatten", nn.Flatten()),
            ("bn", nn.BatchNorm1d(embeddingSize, eps: 1e-5)));
        RegisterComponents();
    }

    private static Sequential ConvBlock(long input, long output, (long, long) kernel, long stride, long padding, long groups, bool linear)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv", nn.Conv2d(input, output, kernel, stride: (stride, stride), padding: (padding, padding), groups: groups, bias: false)),
            ("bn", nn.BatchNorm2d(output, eps: 1e-5)),
        };
        if (!linear) modules.Add(("prelu", nn.PReLU(output, 0.25)));
        return nn.Sequential(modules);
    }

    private static Sequential ConvBlock(long input, long output, long kernel, long stride, long padding, long groups, bool linear)
        => ConvBlock(input, output, (kernel, kernel), stride, padding, groups, linear);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return head.forward(body.forward(input)).MoveToOuterDisposeScope();
    }

    public string WriteGraph(IGraphWriter graph, string input) => graph.Write(head, graph.Write(body, input));

    /// <summary>Inverted residual: 1x1 expand (PReLU), 3x3 depthwise (PReLU), 1x1 linear projection; a shortcut where shapes allow.</summary>
    private sealed class Bottleneck : nn.Module<Tensor, Tensor>, IExportableModule
    {
        private readonly Sequential body;
        private readonly bool residual;

        public Bottleneck(long input, long output, long stride, int expansion) : base(nameof(Bottleneck))
        {
            long hidden = input * expansion;
            body = nn.Sequential(
                ("expand", ConvBlock(input, hidden, 1, 1, 0, groups: 1, linear: false)),
                ("depthwise", ConvBlock(hidden, hidden, 3, stride, 1, groups: hidden, linear: false)),
                ("project", ConvBlock(hidden, output, 1, 1, 0, groups: 1, linear: true)));
            residual = stride == 1 && input == output;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var output = body.forward(input);
            return (residual ? output + input : output).MoveToOuterDisposeScope();
        }

        public string WriteGraph(IGraphWriter graph, string input)
        {
            string output = graph.Write(body, input);
            return residual ? graph.Add(output, input) : output;
        }
    }
}
