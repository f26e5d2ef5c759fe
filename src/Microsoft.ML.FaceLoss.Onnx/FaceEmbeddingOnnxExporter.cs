using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;
using Onnx;

namespace Microsoft.ML.FaceLoss.Onnx;

/// <summary>
/// Writes a trained <see cref="FaceEmbeddingTransformer"/> as an ONNX graph (the backbone, its neck,
/// the optional flip test and the L2 normalization; never a loss head), runs the file with ONNX
/// Runtime on a batch and keeps it only when every embedding value is within the tolerance of
/// TorchSharp's.
/// </summary>
internal static class FaceEmbeddingOnnxExporter
{
    /// <summary>F.normalize's epsilon: x / max(||x||, 1e-12).</summary>
    private const float NormEpsilon = 1e-12f;

    public static OnnxExportResult Export(ITransformer model, string path, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!(options.Tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "OnnxExportOptions.Tolerance must be positive.");
        if (options.ValidationBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.ValidationBatchSize, "OnnxExportOptions.ValidationBatchSize must be at least 1.");
        var steps = FaceRecognitionCatalog.Steps(model).ToList();
        var embedder = steps.OfType<FaceEmbeddingTransformer>().LastOrDefault()
            ?? throw new ArgumentException("The model holds no FaceEmbeddingTransformer: export the image model (the pipeline whose last step is the trained embedding) or the embedding transformer itself.", nameof(model));
        var config = embedder.Network.Config;
        bool flipTest = options.FlipTest ?? embedder.FlipTest;

        var metadata = Metadata(embedder, steps, flipTest);
        var onnx = Build(embedder, flipTest, metadata);

        string full = System.IO.Path.GetFullPath(path);
        string temporary = full + $".{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, onnx.ToByteArray());
            var (pixels, count) = ValidationImages(embedder, options);
            var expected = new float[count * config.EmbeddingSize];
            embedder.Network.Embed(pixels, count, expected, flipTest);
            var actual = Run(temporary, embedder.FeatureColumnName, embedder.OutputColumnName, pixels, count, config.InputLength);
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double difference = Math.Abs((double)expected[i] - actual[i]);
                if (!(difference <= worst)) worst = double.IsNaN(difference) ? double.PositiveInfinity : difference;
            }
            if (!(worst <= options.Tolerance))
                throw new InvalidOperationException(
                    $"The exported network does not reproduce TorchSharp: ONNX Runtime's embeddings of {count} images differ by up to {worst:G3} " +
                    $"(tolerance {options.Tolerance:G3}), so no file was written to {full}. Report the backbone ({config.Backbone}) and this figure.");
            File.Move(temporary, full, overwrite: true);
            return new OnnxExportResult(full, embedder.FeatureColumnName, embedder.OutputColumnName, config.Channels, config.Height, config.Width,
                config.EmbeddingSize, flipTest, OnnxGraphWriter.Opset, new FileInfo(full).Length, worst, count, metadata);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static ModelProto Build(FaceEmbeddingTransformer embedder, bool flipTest, IReadOnlyDictionary<string, string> metadata)
    {
        var config = embedder.Network.Config;
        var graph = new GraphProto { Name = "face_embedding" };
        graph.Input.Add(Value(embedder.FeatureColumnName, config.InputLength));
        graph.Output.Add(Value(embedder.OutputColumnName, config.EmbeddingSize));
        var writer = new OnnxGraphWriter(graph);
        writer.SetRank(embedder.FeatureColumnName, 2);

        embedder.Network.Read(module =>
        {
            // N x (C*H*W), as the ML.NET column holds it, to N x C x H x W.
            string images = writer.Node("Reshape", new[] { embedder.FeatureColumnName, writer.Int64Constant("image_shape", -1, config.Channels, config.Height, config.Width) }, 4);
            string features = writer.Write(module, images);
            if (flipTest)
            {
                // The mirror image: the width axis read backwards.
                string mirrored = writer.Node("Slice", new[] { images, writer.Int64Constant("flip_starts", -1), writer.Int64Constant("flip_ends", long.MinValue),
                    writer.Int64Constant("flip_axes", 3), writer.Int64Constant("flip_steps", -1) }, 4);
                features = writer.Add(features, writer.Write(module, mirrored));
            }
            string norm = writer.Node("ReduceL2", new[] { features }, 2, OnnxGraphWriter.Ints("axes", new long[] { 1 }), OnnxGraphWriter.Int("keepdims", 1));
            string clamped = writer.Node("Max", new[] { norm, writer.Constant("norm_epsilon", new[] { NormEpsilon }) }, 2);
            var divide = new NodeProto { OpType = "Div", Name = "normalize" };
            divide.Input.AddRange(new[] { features, clamped });
            divide.Output.Add(embedder.OutputColumnName);
            graph.Node.Add(divide);
            return 0;
        });

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Microsoft.ML.FaceLoss",
            ProducerVersion = typeof(FaceEmbeddingTransformer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            ModelVersion = 1,
            DocString = "A face embedding network trained with Microsoft.ML.FaceLoss: pixels in, L2-normalized embedding out (no loss head).",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxGraphWriter.Opset });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>A float tensor N x <paramref name="length"/> with a symbolic batch dimension.</summary>
    private static ValueInfoProto Value(string name, long length)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = length });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static Dictionary<string, string> Metadata(FaceEmbeddingTransformer embedder, List<ITransformer> steps, bool flipTest)
    {
        var config = embedder.Network.Config;
        var metadata = new Dictionary<string, string>
        {
            ["embedding_size"] = $"{config.EmbeddingSize}",
            ["input_shape"] = $"{config.Channels},{config.Height},{config.Width}",
            ["input_layout"] = $"N x {config.InputLength}: each image's {config.Channels} x {config.Height} x {config.Width} values in the order of the model's input column",
            ["output"] = "L2-normalized embedding; compare two with the cosine (their dot product)",
            ["backbone"] = $"{config.Backbone}",
            ["flip_test"] = flipTest ? "true" : "false",
            ["loss_head"] = embedder.TrainedWith?.HeadName ?? "unknown",
        };
        // The pixel scaling of the ML.NET step that makes the embedding's input column, where the model holds it.
        var pixels = steps.OfType<ImagePixelExtractingTransformer>()
            .SelectMany(PixelColumns).LastOrDefault(c => c.Name == embedder.FeatureColumnName);
        if (pixels is null)
        {
            metadata["pixel_scaling"] = "unknown: the model passed to the export does not hold the ExtractPixels step that makes its input column";
        }
        else
        {
            metadata["pixel_scaling"] = FormattableString.Invariant($"value = (pixel - {pixels.OffsetImage}) * {pixels.ScaleImage}, pixels 0..255");
            metadata["pixel_offset"] = pixels.OffsetImage.ToString("R", CultureInfo.InvariantCulture);
            metadata["pixel_scale"] = pixels.ScaleImage.ToString("R", CultureInfo.InvariantCulture);
            metadata["channel_order"] = ChannelOrder(pixels.ColorsToExtract, pixels.OrderOfExtraction);
            metadata["interleaved"] = pixels.InterleavePixelColors ? "true (H x W x C)" : "false (C x H x W)";
        }
        return metadata;
    }

    /// <summary>What an ExtractPixels step does to the pixels of one output column.</summary>
    private sealed record PixelSettings(string Name, float OffsetImage, float ScaleImage, ImagePixelExtractingEstimator.ColorBits ColorsToExtract,
        ImagePixelExtractingEstimator.ColorsOrder OrderOfExtraction, bool InterleavePixelColors);

    /// <summary>
    /// The column settings of an ExtractPixels step. ML.NET keeps them internal (its own ONNX export
    /// reads them); a few reflected reads are simpler here than a publicized ImageAnalytics.
    /// </summary>
    private static IEnumerable<PixelSettings> PixelColumns(ImagePixelExtractingTransformer step)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        if (typeof(ImagePixelExtractingTransformer).GetProperty("Columns", Any)?.GetValue(step) is not System.Collections.IEnumerable columns) yield break;
        foreach (var column in columns)
        {
            object? Get(string name) => column.GetType().GetField(name, Any)?.GetValue(column) ?? column.GetType().GetProperty(name, Any)?.GetValue(column);
            if (Get("Name") is string name && Get("OffsetImage") is float offset && Get("ScaleImage") is float scale
                && Get("ColorsToExtract") is ImagePixelExtractingEstimator.ColorBits colors && Get("OrderOfExtraction") is ImagePixelExtractingEstimator.ColorsOrder order
                && Get("InterleavePixelColors") is bool interleave)
                yield return new PixelSettings(name, offset, scale, colors, order, interleave);
        }
    }

    private static string ChannelOrder(ImagePixelExtractingEstimator.ColorBits colors, ImagePixelExtractingEstimator.ColorsOrder order)
    {
        var channels = new List<string>();
        foreach (char letter in order.ToString())
        {
            var bit = letter switch
            {
                'A' => ImagePixelExtractingEstimator.ColorBits.Alpha,
                'R' => ImagePixelExtractingEstimator.ColorBits.Red,
                'G' => ImagePixelExtractingEstimator.ColorBits.Green,
                _ => ImagePixelExtractingEstimator.ColorBits.Blue,
            };
            if ((colors & bit) != 0) channels.Add(bit.ToString());
        }
        return string.Join(",", channels);
    }

    private static (float[] Pixels, int Count) ValidationImages(FaceEmbeddingTransformer embedder, OnnxExportOptions options)
    {
        int length = embedder.Network.Config.InputLength;
        if (options.ValidationData is { } data)
        {
            var pixels = new List<float>();
            int count = 0;
            var column = data.Schema.GetColumnOrNull(embedder.FeatureColumnName)
                ?? throw new ArgumentException($"OnnxExportOptions.ValidationData has no column '{embedder.FeatureColumnName}', the embedding's input.", nameof(options));
            using var cursor = data.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> row = default;
            while (count < options.ValidationBatchSize && cursor.MoveNext())
            {
                getter(ref row);
                if (row.Length != length)
                    throw new ArgumentException($"OnnxExportOptions.ValidationData's column '{embedder.FeatureColumnName}' holds {row.Length} values a row; the network takes {length}.", nameof(options));
                foreach (float value in row.DenseValues()) pixels.Add(value);
                count++;
            }
            if (count == 0) throw new ArgumentException("OnnxExportOptions.ValidationData is empty.", nameof(options));
            return (pixels.ToArray(), count);
        }
        var random = new Random(17);
        var noise = new float[options.ValidationBatchSize * length];
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)(random.NextDouble() * 2 - 1);
        return (noise, options.ValidationBatchSize);
    }

    /// <summary>Runs the ONNX file on one batch with ONNX Runtime (one thread: the check must not depend on scheduling).</summary>
    internal static float[] Run(string path, string inputName, string outputName, float[] pixels, int count, int inputLength)
    {
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(path, sessionOptions);
        using var input = OrtValue.CreateTensorValueFromMemory(pixels.AsSpan(0, count * inputLength).ToArray(), new long[] { count, inputLength });
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { inputName }, new[] { input }, new[] { outputName });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
