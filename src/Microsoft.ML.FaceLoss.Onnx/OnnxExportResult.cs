namespace Microsoft.ML.FaceLoss.Onnx;

/// <summary>What an ONNX export wrote, and how closely ONNX Runtime reproduced TorchSharp.</summary>
public sealed class OnnxExportResult
{
    internal OnnxExportResult(string path, string inputName, string outputName, int channels, int height, int width,
        int embeddingSize, bool flipTest, long opset, long fileBytes, double maxDifference, int checkedImages,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        InputName = inputName;
        OutputName = outputName;
        Channels = channels;
        Height = height;
        Width = width;
        EmbeddingSize = embeddingSize;
        FlipTest = flipTest;
        Opset = opset;
        FileBytes = fileBytes;
        MaxDifference = maxDifference;
        CheckedImages = checkedImages;
        Metadata = metadata;
    }

    /// <summary>The ONNX file written.</summary>
    public string Path { get; }

    /// <summary>The graph's input: N x (C x H x W) floats, named as the embedding's input column, so that <c>ApplyOnnxModel</c> reads that column.</summary>
    public string InputName { get; }

    /// <summary>The graph's output: N x D L2-normalized floats, named as the embedding's output column.</summary>
    public string OutputName { get; }

    /// <summary>C, the colour channels of the input.</summary>
    public int Channels { get; }

    /// <summary>H, the input height in pixels.</summary>
    public int Height { get; }

    /// <summary>W, the input width in pixels.</summary>
    public int Width { get; }

    /// <summary>D, the embedding length.</summary>
    public int EmbeddingSize { get; }

    /// <summary>Whether the graph embeds normalize(f(x) + f(mirror(x))).</summary>
    public bool FlipTest { get; }

    /// <summary>The ONNX operator set the graph uses.</summary>
    public long Opset { get; }

    /// <summary>The file's size in bytes.</summary>
    public long FileBytes { get; }

    /// <summary>The largest difference between ONNX Runtime's and TorchSharp's embedding values on the check batch.</summary>
    public double MaxDifference { get; }

    /// <summary>How many images the check compared.</summary>
    public int CheckedImages { get; }

    /// <summary>The metadata written into the file (ONNX <c>metadata_props</c>): embedding size, input shape, pixel scaling, backbone, head.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}
