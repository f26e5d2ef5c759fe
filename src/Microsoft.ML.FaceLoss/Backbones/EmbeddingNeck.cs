using Microsoft.ML.FaceLoss.Backbones.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>
/// The neck of ArcFace's IResNet: BatchNorm2d - Dropout - Flatten - Linear - BatchNorm1d, from the
/// last feature map (channels x height x width) to the embedding.
/// </summary>
internal sealed class EmbeddingNeck : nn.Module<Tensor, Tensor>, IExportableModule
{
    private readonly BatchNorm2d bn2;
    private readonly Dropout dropout;
    private readonly Linear fc;
    private readonly BatchNorm1d features;

    public EmbeddingNeck(long channels, long height, long width, long embeddingSize, double dropoutRate)
        : base(nameof(EmbeddingNeck))
    {
        bn2 = nn.BatchNorm2d(channels, eps: 1e-5);
        dropout = nn.Dropout(dropoutRate);
        fc = nn.Linear(channels * height * width, embeddingSize);
        features = nn.BatchNorm1d(embeddingSize, eps: 1e-5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(bn2.forward(input)).flatten(1);
        return features.forward(fc.forward(x)).MoveToOuterDisposeScope();
    }

    public string WriteGraph(IGraphWriter graph, string input)
        => graph.Write(features, graph.Write(fc, graph.Flatten(graph.Write(dropout, graph.Write(bn2, input)))));
}
