using Microsoft.ML.FaceLoss.Embedding;

namespace Microsoft.ML.FaceLoss.Onnx;

/// <summary>ONNX export of trained face embeddings: <c>mlContext.FaceRecognition().ExportToOnnx(...)</c>.</summary>
public static class OnnxExportCatalog
{
    /// <summary>
    /// Writes the embedding network of <paramref name="model"/> (a <see cref="FaceEmbeddingTransformer"/>,
    /// or a pipeline holding one: its last) to an ONNX file: input N x (C x H x W) floats named as the
    /// embedding's input column, output N x D unit vectors named as its output column, opset 13, with
    /// metadata (embedding size, input shape, pixel scaling and channel order where the pipeline holds
    /// its ExtractPixels step, backbone, flip test, loss head). Before the file is kept, ONNX Runtime
    /// runs it on a batch and every value must lie within <see cref="OnnxExportOptions.Tolerance"/> of
    /// TorchSharp's; otherwise nothing is written (an earlier file at <paramref name="path"/> stays).
    /// Deploy it with <c>mlContext.Transforms.ApplyOnnxModel</c>, which needs neither TorchSharp nor LibTorch.
    /// </summary>
    /// <exception cref="NotSupportedException">A module of the network (a custom backbone's) cannot be written; the message names it.</exception>
    /// <exception cref="InvalidOperationException">ONNX Runtime's embeddings differ from TorchSharp's beyond the tolerance.</exception>
    public static OnnxExportResult ExportToOnnx(this FaceRecognitionCatalog catalog, ITransformer model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return FaceEmbeddingOnnxExporter.Export(model, path, options ?? new OnnxExportOptions());
    }
}
