namespace Microsoft.ML.FaceLoss.Onnx;

/// <summary>Options of <see cref="OnnxExportCatalog.ExportToOnnx(FaceRecognitionCatalog, ITransformer, string, OnnxExportOptions?)"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// The largest difference allowed between an ONNX Runtime embedding and TorchSharp's, per value
    /// (the embeddings are unit vectors). The export fails, and writes no file, beyond it. Default 1e-4.
    /// </summary>
    public double Tolerance = 1e-4;

    /// <summary>How many images the check runs through both runtimes, in one batch. Default 8.</summary>
    public int ValidationBatchSize = 8;

    /// <summary>
    /// Images (the embedding's input column, C x H x W pixels each) for the check; its first
    /// <see cref="ValidationBatchSize"/> rows are used. Default null: seeded uniform noise in [-1, 1],
    /// which exercises every layer as well as faces do.
    /// </summary>
    public IDataView? ValidationData;

    /// <summary>
    /// The flip test (the embedding of an image and of its mirror image, summed, then normalized) in the
    /// exported graph. Default null: as the model does (<c>FaceEmbeddingTransformer.FlipTest</c>).
    /// </summary>
    public bool? FlipTest;
}
