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

    /// <summary>A new factory of the same class with the same <see cref="Settings"/> (as loading a model makes it), or null for null.</summary>
    internal static BackboneFactory? Copy(BackboneFactory? factory)
    {
        if (factory is null) return null;
        if (factory.GetType().GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"The custom backbone {factory.GetType().FullName} needs a public parameterless constructor (a saved model makes it again that way).", nameof(factory));
        var copy = (BackboneFactory)Activator.CreateInstance(factory.GetType())!;
        copy.Settings = factory.Settings;
        return copy;
    }
}
