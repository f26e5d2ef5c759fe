using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>
/// The extension point for a backbone of your own: derive from this class (public, with a public
/// parameterless constructor) and put an instance into <c>FaceEmbeddingTrainer.Options.CustomBackbone</c>.
/// The module maps a batch of images N x C x H x W to embeddings N x D. A saved model records the
/// class's assembly-qualified name and <see cref="Settings"/> with the weights; loading creates the
/// class again (its assembly must be loadable, as for any ML.NET custom component), applies the
/// settings, calls <see cref="Create"/> and loads the weights.
/// </summary>
public abstract class BackboneFactory
{
    /// <summary>Makes the module with freshly initialised weights.</summary>
    /// <param name="channels">C, the colour channels of the input.</param>
    /// <param name="height">H, the input height in pixels.</param>
    /// <param name="width">W, the input width in pixels.</param>
    /// <param name="embeddingSize">D, the length of the output embedding.</param>
    public abstract nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int embeddingSize);

    /// <summary>Whatever else <see cref="Create"/> depends on, as text saved with the model. Default: empty.</summary>
    public virtual string Settings { get; set; } = "";
}

/// <summary>Makes the network of a <see cref="FaceBackbone"/> for a given input and embedding size.</summary>
internal static class BackboneCatalog
{
    /// <summary>The first-stage width each backbone uses when the options give 0.</summary>
    public static int DefaultWidth(FaceBackbone backbone) => backbone switch
    {
        FaceBackbone.SmallCnn => 16,
        FaceBackbone.LeNetPlusPlus => 32,
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
            FaceBackbone.LeNetPlusPlus => new LeNetPlusPlus(channels, height, width, embeddingSize, w),
            FaceBackbone.IResNet18 => new IResNet(new[] { 2, 2, 2, 2 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.IResNet34 => new IResNet(new[] { 3, 4, 6, 3 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.IResNet50 => new IResNet(new[] { 3, 4, 14, 3 }, channels, height, width, embeddingSize, w, dropoutRate, stemStride),
            FaceBackbone.MobileFaceNet => new MobileFaceNet(channels, height, width, embeddingSize, w),
            FaceBackbone.Custom => (custom ?? throw new ArgumentException("The Custom backbone needs Options.CustomBackbone.", nameof(custom)))
                .Create(channels, height, width, embeddingSize),
            _ => throw new ArgumentOutOfRangeException(nameof(backbone), backbone, "Unknown backbone."),
        };
    }

    /// <summary>The spatial size after a 3x3 convolution with padding 1 and the given stride.</summary>
    public static long Down(long size, long stride) => (size + 2 - 3) / stride + 1;
}
