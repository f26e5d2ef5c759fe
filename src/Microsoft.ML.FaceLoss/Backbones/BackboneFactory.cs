using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>Makes the network of a <see cref="FaceBackbone"/> for a given input and embedding size.</summary>
internal static class BackboneFactory
{
    public static nn.Module<Tensor, Tensor> Create(FaceBackbone backbone, int channels, int height, int width,
        int embeddingSize, int baseWidth, double dropoutRate) => backbone switch
        {
            FaceBackbone.SmallCnn => new SmallCnn(channels, height, width, embeddingSize, baseWidth, dropoutRate),
            _ => throw new ArgumentOutOfRangeException(nameof(backbone), backbone, "Unknown backbone."),
        };
}
