using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// Inference: images per second of <c>Transform</c> over an in-memory data view against the raw
/// batched forward pass of the same network on the same images; the single-image latency of a
/// <c>PredictionEngine</c> against one forward pass of one image.
/// </summary>
internal static class InferenceSpeed
{
    public sealed record Settings(FaceBackbone Backbone, int Size, int Images, int Batch, int EmbeddingSize, int Rounds, int Latencies);

    public sealed class PixelRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    /// <summary>A transformer over an untrained network (the weights do not change the cost).</summary>
    public static FaceEmbeddingTransformer Model(FaceBackbone backbone, int size, int embeddingSize, int batch)
    {
        torch.manual_seed(1);
        var network = EmbeddingNetwork.Create(new EmbeddingNetworkConfig(backbone, 3, size, size, embeddingSize, 0, 0));
        return new FaceEmbeddingTransformer("Features", "Embedding", network, null, batch);
    }

    public static SchemaDefinition Schema(int size)
    {
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, size, size);
        return schema;
    }

    /// <summary><paramref name="images"/> rows of seeded uniform noise in [-1, 1], 3 x size x size values each.</summary>
    public static List<PixelRow> RandomRows(int images, int size)
    {
        int length = 3 * size * size;
        var random = new Random(1);
        return Enumerable.Range(0, images).Select(_ =>
        {
            var pixels = new float[length];
            for (int i = 0; i < length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
            return new PixelRow { Features = pixels };
        }).ToList();
    }

    /// <summary>Images per second of <paramref name="transformer"/>: a cursor over the Embedding column of every row of <paramref name="data"/>.</summary>
    public static double ImagesPerSecond(ITransformer transformer, IDataView data)
    {
        var clock = Stopwatch.StartNew();
        var output = transformer.Transform(data);
        using var cursor = output.GetRowCursor(output.Schema.Where(c => c.Name == "Embedding"));
        var getter = cursor.GetGetter<VBuffer<float>>(output.Schema["Embedding"]);
        VBuffer<float> embedding = default;
        long rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref embedding);
            rows++;
        }
        return rows / clock.Elapsed.TotalSeconds;
    }

    public static IEnumerable<JsonObject> Run(Settings s)
    {
        var ml = new MLContext(seed: 1);
        var rows = RandomRows(s.Images, s.Size);
        var data = ml.Data.LoadFromEnumerable(rows, Schema(s.Size));
        using var model = Model(s.Backbone, s.Size, s.EmbeddingSize, s.Batch);
        var module = model.Network.Module;
        var settings = new JsonObject { ["backbone"] = s.Backbone.ToString(), ["input"] = $"3x{s.Size}x{s.Size}", ["embedding"] = s.EmbeddingSize };

        // Transform: a cursor over the embedding column of every row.
        double Transform() => ImagesPerSecond(model, data);

        // The floor: batches of a pixel tensor through the module, normalized and copied out.
        using var all = tensor(rows.SelectMany(r => r.Features).ToArray(), new long[] { s.Images, 3, s.Size, s.Size });
        var embeddings = new float[s.Batch * s.EmbeddingSize];
        double Raw()
        {
            var clock = Stopwatch.StartNew();
            using var noGrad = no_grad();
            module.eval();
            for (int start = 0; start < s.Images; start += s.Batch)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(s.Batch, s.Images - start);
                var output = nn.functional.normalize(module.forward(all.narrow(0, start, count)), p: 2, dim: 1).contiguous();
                output.data<float>().CopyTo(embeddings.AsSpan(0, count * s.EmbeddingSize));
            }
            return s.Images / clock.Elapsed.TotalSeconds;
        }

        var (ours, reference) = Measurement.Alternate(s.Rounds, Transform, Raw);
        var batchSettings = (JsonObject)settings.DeepClone();
        batchSettings["images"] = s.Images;
        batchSettings["batch"] = s.Batch;
        batchSettings["data"] = "pixel vectors in an in-memory data view (LoadFromEnumerable)";
        yield return SpeedFigure.Make($"inference {s.Backbone} (Transform)", "images/s", Better.Higher, ours, reference,
            "the module's forward pass over batches of one pixel tensor, normalized and copied out", 0.98, null, batchSettings);

        // PredictionEngine: one image per call.
        var engine = ml.Model.CreatePredictionEngine<PixelRow, EmbeddingRow>(model, inputSchemaDefinition: Schema(s.Size));
        using var one = tensor(rows[0].Features, new long[] { 1, 3, s.Size, s.Size });
        var single = new float[s.EmbeddingSize];
        double Predict(int i)
        {
            var clock = Stopwatch.StartNew();
            engine.Predict(rows[i % rows.Count]);
            return clock.Elapsed.TotalMilliseconds;
        }
        double Forward()
        {
            var clock = Stopwatch.StartNew();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            module.eval();
            nn.functional.normalize(module.forward(one), p: 2, dim: 1).data<float>().CopyTo(single);
            return clock.Elapsed.TotalMilliseconds;
        }
        for (int i = 0; i < 20; i++) { Predict(i); Forward(); }
        var latency = new Measurement();
        var forward = new Measurement();
        for (int i = 0; i < s.Latencies; i++)
        {
            latency.Add(Predict(i));
            forward.Add(Forward());
        }
        var latencySettings = (JsonObject)settings.DeepClone();
        latencySettings["calls"] = s.Latencies;
        var line = SpeedFigure.Make($"latency {s.Backbone} (PredictionEngine, 1 image)", "ms", Better.Lower, latency, forward,
            "one forward pass of one image tensor, normalized and copied out", null, null, latencySettings);
        line["ours_p99"] = SpeedFigure.Round(latency.Quantile(0.99));
        line["reference_p99"] = SpeedFigure.Round(forward.Quantile(0.99));
        yield return line;
    }
}
