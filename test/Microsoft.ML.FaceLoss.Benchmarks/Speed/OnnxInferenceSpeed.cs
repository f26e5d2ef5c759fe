using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Onnx;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// The two deployments of one network: images per second of ML.NET's <c>ApplyOnnxModel</c> (ONNX
/// Runtime, no TorchSharp) on the exported network against the TorchSharp <c>Transform</c> of the same
/// network, over the same in-memory images, in alternating rounds.
/// </summary>
internal static class OnnxInferenceSpeed
{
    public sealed record Settings(FaceBackbone Backbone, int Size, int Images, int Batch, int EmbeddingSize, int Rounds);

    public static JsonObject Run(Settings s)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(InferenceSpeed.RandomRows(s.Images, s.Size), InferenceSpeed.Schema(s.Size));
        using var model = InferenceSpeed.Model(s.Backbone, s.Size, s.EmbeddingSize, s.Batch);
        string folder = Directory.CreateTempSubdirectory("faceloss-onnx-speed-").FullName;
        try
        {
            var export = ml.FaceRecognition().ExportToOnnx(model, Path.Combine(folder, "embedding.onnx"));
            var onnx = ml.Transforms.ApplyOnnxModel(new OnnxOptions
            {
                ModelFile = export.Path, InputColumns = new[] { export.InputName }, OutputColumns = new[] { export.OutputName },
            }).Fit(data);

            var (ours, reference) = Measurement.Alternate(s.Rounds, () => InferenceSpeed.ImagesPerSecond(onnx, data), () => InferenceSpeed.ImagesPerSecond(model, data));
            return SpeedFigure.Make($"inference {s.Backbone} (ONNX Runtime, ApplyOnnxModel)", "images/s", Better.Higher, ours, reference,
                $"the TorchSharp Transform of the same network (batches of {s.Batch})", null, null, new JsonObject
                {
                    ["backbone"] = s.Backbone.ToString(), ["input"] = $"3x{s.Size}x{s.Size}", ["embedding"] = s.EmbeddingSize, ["images"] = s.Images,
                    ["onnx_file_bytes"] = export.FileBytes, ["onnx_max_difference"] = export.MaxDifference,
                    ["onnx"] = "ApplyOnnxModel with default options: ML.NET runs one row per ONNX Runtime call",
                });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
