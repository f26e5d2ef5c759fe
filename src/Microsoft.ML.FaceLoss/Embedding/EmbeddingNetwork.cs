using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>What defines an embedding network: the backbone, its input and its output.</summary>
internal sealed record EmbeddingNetworkConfig(
    FaceBackbone Backbone, int Channels, int Height, int Width, int EmbeddingSize, int BaseWidth, double DropoutRate,
    int StemStride = 0, string? CustomType = null, string? CustomSettings = null)
{
    /// <summary>The number of values of one input image, C x H x W.</summary>
    public int InputLength => Channels * Height * Width;

    public void Write(BinaryWriter writer)
    {
        writer.Write((int)Backbone);
        writer.Write(Channels);
        writer.Write(Height);
        writer.Write(Width);
        writer.Write(EmbeddingSize);
        writer.Write(BaseWidth);
        writer.Write(DropoutRate);
        writer.Write(StemStride);
        writer.Write(CustomType ?? "");
        writer.Write(CustomSettings ?? "");
    }

    public static EmbeddingNetworkConfig Read(BinaryReader reader)
    {
        var config = new EmbeddingNetworkConfig((FaceBackbone)reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(),
            reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt32(),
            NullIfEmpty(reader.ReadString()), NullIfEmpty(reader.ReadString()));
        if (!Enum.IsDefined(config.Backbone) || config.Channels < 1 || config.Height < 1 || config.Width < 1
            || config.EmbeddingSize < 1 || config.BaseWidth < 0 || !(config.DropoutRate >= 0 && config.DropoutRate < 1)
            || (config.Backbone == FaceBackbone.Custom) != (config.CustomType is not null))
            throw new InvalidDataException($"The embedding network description is invalid: {config}.");
        return config;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>Makes the custom backbone's factory again from its saved type name and settings.</summary>
    public BackboneFactory? CreateCustomFactory()
    {
        if (CustomType is null) return null;
        var type = Type.GetType(CustomType, throwOnError: false)
            ?? throw new InvalidDataException($"The model's custom backbone type '{CustomType}' cannot be found; reference its assembly in the application that loads the model.");
        if (Activator.CreateInstance(type) is not BackboneFactory factory)
            throw new InvalidDataException($"The model's custom backbone type '{CustomType}' is not a BackboneFactory.");
        factory.Settings = CustomSettings ?? "";
        return factory;
    }
}

/// <summary>
/// A backbone network and its description; turns batches of images into L2-normalized embeddings.
/// Inference is serialized by a lock, so one network serves many threads safely.
/// </summary>
internal sealed class EmbeddingNetwork : IDisposable
{
    private readonly object _lock = new();
    private bool _disposed;

    private EmbeddingNetwork(EmbeddingNetworkConfig config, nn.Module<Tensor, Tensor> module)
    {
        Config = config;
        Module = module;
    }

    public EmbeddingNetworkConfig Config { get; }

    public nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>Where the weights are (the CPU unless <see cref="MoveTo"/> moved them); inputs are moved there.</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>Moves the weights to <paramref name="device"/>.</summary>
    public void MoveTo(Device device)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            Module.to(device);
            Device = device;
        }
    }

    /// <summary>Makes a network with freshly initialised weights (from torch's global generator).</summary>
    public static EmbeddingNetwork Create(EmbeddingNetworkConfig config, BackboneFactory? custom = null)
    {
        TorchRuntime.EnsureLoaded();
        return new(config, BackboneCatalog.Create(config.Backbone, config.Channels, config.Height, config.Width,
            config.EmbeddingSize, config.BaseWidth, config.DropoutRate, config.StemStride, custom ?? config.CreateCustomFactory()));
    }

    /// <summary>
    /// Embeds <paramref name="count"/> images stored one after another in <paramref name="pixels"/>
    /// (C x H x W values each) and writes count x D normalized values to <paramref name="embeddings"/>.
    /// </summary>
    /// <param name="pixels">The images, one after another.</param>
    /// <param name="count">The number of images.</param>
    /// <param name="embeddings">Receives count x D values.</param>
    /// <param name="flipTest">Whether to embed normalize(f(x) + f(mirror(x))) instead of normalize(f(x)).</param>
    public void Embed(ReadOnlySpan<float> pixels, int count, Span<float> embeddings, bool flipTest = false)
        => Embed(pixels.Slice(0, Math.Min(pixels.Length, count * Config.InputLength)).ToArray(), count, embeddings, flipTest);

    /// <summary>
    /// <see cref="Embed(ReadOnlySpan{float}, int, Span{float}, bool)"/> from an array: the images are
    /// copied once, into the memory of the input tensor.
    /// </summary>
    public void Embed(float[] pixels, int count, Span<float> embeddings, bool flipTest = false)
    {
        if (pixels.Length < count * Config.InputLength || embeddings.Length < count * Config.EmbeddingSize)
            throw new ArgumentException("The buffers are smaller than the batch.");
        lock (_lock)
        {
            ThrowIfDisposed();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Module.eval();
            var batch = Images(pixels, count);
            var features = Module.forward(batch);
            if (flipTest) features = features + Module.forward(batch.flip(3));
            var output = nn.functional.normalize(features, p: 2, dim: 1).cpu().contiguous();
            output.data<float>().CopyTo(embeddings.Slice(0, count * Config.EmbeddingSize));
        }
    }

    /// <summary>The raw (not normalized) features of <paramref name="count"/> images: the backbone's output.</summary>
    public void Features(float[] pixels, int count, Span<float> features)
    {
        if (pixels.Length < count * Config.InputLength || features.Length < count * Config.EmbeddingSize)
            throw new ArgumentException("The buffers are smaller than the batch.");
        lock (_lock)
        {
            ThrowIfDisposed();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Module.eval();
            var output = Module.forward(Images(pixels, count)).cpu().contiguous();
            output.data<float>().CopyTo(features.Slice(0, count * Config.EmbeddingSize));
        }
    }

    /// <summary>Runs <paramref name="read"/> on the module in evaluation mode, under the inference lock (an exporter reads the weights so).</summary>
    public T Read<T>(Func<nn.Module<Tensor, Tensor>, T> read)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            Module.eval();
            return read(Module);
        }
    }

    private Tensor Images(float[] pixels, int count) => PixelTensors.Images(pixels, count, Config.Channels, Config.Height, Config.Width, Device);

    /// <summary>
    /// How many of <paramref name="count"/> images get an embedding that is not a unit vector (all zeros,
    /// or not finite): a network that collapsed in training or whose weights are damaged.
    /// </summary>
    public int CountDegenerateEmbeddings(float[] pixels, int count)
    {
        int size = Config.EmbeddingSize;
        var embeddings = new float[count * size];
        Embed(pixels, count, embeddings);
        int degenerate = 0;
        for (int i = 0; i < count; i++)
        {
            double norm = 0;
            foreach (float v in embeddings.AsSpan(i * size, size)) norm += (double)v * v;
            if (!(Math.Abs(Math.Sqrt(norm) - 1) < 1e-3)) degenerate++;
        }
        return degenerate;
    }

    /// <summary>
    /// The smallest cosine similarity between the embeddings of <paramref name="count"/> images: 1 when
    /// the network maps them all to one point (a collapse that unit norms do not reveal).
    /// </summary>
    public double SmallestPairwiseCosine(float[] pixels, int count)
    {
        int size = Config.EmbeddingSize;
        var embeddings = new float[count * size];
        Embed(pixels, count, embeddings);
        double smallest = 1;
        for (int i = 0; i < count; i++)
            for (int j = i + 1; j < count; j++)
            {
                double dot = 0;
                for (int k = 0; k < size; k++) dot += (double)embeddings[i * size + k] * embeddings[j * size + k];
                smallest = Math.Min(smallest, dot);
            }
        return smallest;
    }

    public void Write(BinaryWriter writer)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            Config.Write(writer);
            Module.save(writer);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote, and checks that the network embeds two seeded noise images as unit vectors.</summary>
    /// <exception cref="InvalidDataException">The description is invalid, or the weights give empty or non-finite embeddings.</exception>
    public static EmbeddingNetwork Read(BinaryReader reader)
    {
        var config = EmbeddingNetworkConfig.Read(reader);
        var network = Create(config);
        try
        {
            network.Module.load(reader, strict: true);
            network.Module.eval();
            var random = new Random(1);
            var probe = new float[2 * config.InputLength];
            for (int i = 0; i < probe.Length; i++) probe[i] = (float)(random.NextDouble() * 2 - 1);
            if (network.CountDegenerateEmbeddings(probe, 2) > 0)
                throw new InvalidDataException("The model's embedding network gives embeddings that are not unit vectors (all zeros or not finite): its weights are damaged, or it was trained into collapse.");
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Frees the native memory; waits for an embedding in progress, and refuses every later use with an <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Module.Dispose();
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(FaceEmbeddingTransformer),
                "The face embedding transformer was disposed, and its network's native memory freed. Load the model again (mlContext.Model.Load) to use it.");
    }
}
