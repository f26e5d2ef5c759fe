using Microsoft.ML.FaceLoss.Backbones.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>
/// LeNet++ (Wen et al. 2016); see <see cref="FaceBackbone.LeNetPlusPlus"/> and, with a BatchNorm1d on
/// the features, <see cref="FaceBackbone.LeNetPlusPlusBatchNorm"/>.
/// </summary>
internal sealed class LeNetPlusPlus : nn.Module<Tensor, Tensor>, IExportableModule
{
    private readonly Sequential body;
    private readonly Linear fc;
    private readonly BatchNorm1d? features;

    public LeNetPlusPlus(int channels, int height, int width, int embeddingSize, int baseWidth, bool featureBatchNorm) : base(nameof(LeNetPlusPlus))
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long input = channels, h = height, w = width;
        for (int stage = 0; stage < 3; stage++)
        {
            long output = (long)baseWidth << stage;
            for (int i = 0; i < 2; i++)
            {
                layers.Add(($"conv{stage + 1}_{i + 1}", nn.Conv2d(input, output, 5, stride: 1, padding: 2)));
                layers.Add(($"prelu{stage + 1}_{i + 1}", nn.PReLU(output, 0.25)));
                input = output;
            }
            layers.Add(($"pool{stage + 1}", nn.MaxPool2d(2, 2)));
            h /= 2;
            w /= 2;
        }
        if (h < 1 || w < 1) throw new ArgumentOutOfRangeException(nameof(height), $"LeNet++ needs at least 8 x 8 pixels, got {height} x {width}.");
        body = nn.Sequential(layers);
        fc = nn.Linear(input * h * w, embeddingSize);
        // Registered only when asked for, so that the plain LeNet++ keeps its parameter names.
        if (featureBatchNorm) features = nn.BatchNorm1d(embeddingSize, eps: 1e-5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = fc.forward(body.forward(input).flatten(1));
        return (features is null ? x : features.forward(x)).MoveToOuterDisposeScope();
    }

    public string WriteGraph(IGraphWriter graph, string input)
    {
        string x = graph.Write(fc, graph.Flatten(graph.Write(body, input)));
        return features is null ? x : graph.Write(features, x);
    }
}
