using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>Makes the network of a <see cref="FaceBackbone"/> for a given input and embedding size.</summary>
internal static class BackboneCatalog
{
    /// <summary>The first-stage width each backbone uses when the options give 0.</summary>
    public static int DefaultWidth(FaceBackbone backbone) => backbone switch
    {
        FaceBackbone.SmallCnn => 16,
        FaceBackbone.LeNetPlusPlus or FaceBackbone.LeNetPlusPlusBatchNorm => 32,
        FaceBackbone.MobileFaceNet => 64,
        _ => 64,
    };

    public static nn.Module<Tensor, Tensor> Create(FaceBackbone backbone, int channels, int height, int width,
        int embeddingSize, int baseWidth, double dropoutRate, int stemStride, BackboneFactory? custom)
    {
        int w = baseWidth > 0 ? baseWidth : DefaultWidth(backbone);
        return backbone switch
        {
            FaceBackbone.SmallCnn => new SmallCnn(channels, height, width, embeddingSize, w, dropoutRate),
            FaceBackbone.LeNetPlusPlus => new LeNetPlusPlus(channels, height, width, embeddingSize, w, featureBatchNorm: false),
            FaceBackbone.LeNetPlusPlusBatchNorm => new LeNetPlusPlus(channels, height, width, embeddingSize, w, featureBatchNorm: true),
            FaceBackbone.IResNet18 => new IResNet(new[] { 2, 2, 2, 2 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.IResNet34 => new IResNet(new[] { 3, 4, 6, 3 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.IResNet50 => new IResNet(new[] { 3, 4, 14, 3 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.MobileFaceNet => new MobileFaceNet(channels, height, width, embeddingSize, w),
            // The architecture only: the trainer loads the pretrained weights (PretrainedModels), a saved model its own.
            FaceBackbone.DlibResNet29 => new DlibResNet29(channels, height, width, embeddingSize),
            FaceBackbone.Custom => (custom ?? throw new ArgumentException("The Custom backbone needs Options.CustomBackbone.", nameof(custom)))
                .Create(channels, height, width, embeddingSize),
            _ => throw new ArgumentOutOfRangeException(nameof(backbone), backbone, "Unknown backbone."),
        };
    }

    /// <summary>The spatial size after a 3x3 convolution with padding 1 and the given stride.</summary>
    public static long Down(long size, long stride) => (size + 2 - 3) / stride + 1;
}
