using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// 1:N identification: probes against a large enrolled gallery through <c>Transform</c> (top-k
/// identities and scores), against the one float32 matrix product of the same shape that the
/// search cannot do without; and one probe through a <c>PredictionEngine</c> against the matrix
/// product of one probe.
/// </summary>
internal static class IdentificationSpeed
{
    public sealed record Settings(int GalleryRows, int RowsPerIdentity, int Dimension, int Probes, int TopK, int Rounds, int Latencies);

    public sealed class Face
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    public sealed class Identified
    {
        public string PredictedIdentity { get; set; } = "";

        public float IdentityScore { get; set; }

        public string[] TopIdentities { get; set; } = Array.Empty<string>();

        public float[] TopScores { get; set; } = Array.Empty<float>();
    }

    public static IEnumerable<JsonObject> Run(Settings s)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        float[] Vector()
        {
            var v = new float[s.Dimension];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
            return v;
        }
        var schema = SchemaDefinition.Create(typeof(Face));
        schema[nameof(Face.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, s.Dimension);
        var galleryRows = Enumerable.Range(0, s.GalleryRows).Select(i => new Face { Embedding = Vector(), Identity = $"person{i / s.RowsPerIdentity}" }).ToList();
        var probes = Enumerable.Range(0, s.Probes).Select(_ => new Face { Embedding = Vector() }).ToList();
        var enrolClock = Stopwatch.StartNew();
        var gallery = ml.FaceRecognition().Transforms.EnrollGallery(topK: s.TopK).Fit(ml.Data.LoadFromEnumerable(galleryRows, schema));
        double enrolSeconds = enrolClock.Elapsed.TotalSeconds;
        var probeView = ml.Data.LoadFromEnumerable(probes, schema);

        double Search()
        {
            var clock = Stopwatch.StartNew();
            var output = gallery.Transform(probeView);
            using var cursor = output.GetRowCursor(output.Schema);
            var identities = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(output.Schema["TopIdentities"]);
            var scores = cursor.GetGetter<VBuffer<float>>(output.Schema["TopScores"]);
            VBuffer<ReadOnlyMemory<char>> names = default;
            VBuffer<float> values = default;
            while (cursor.MoveNext())
            {
                identities(ref names);
                scores(ref values);
            }
            return clock.Elapsed.TotalSeconds;
        }
        using var galleryTensor = randn(s.GalleryRows, s.Dimension);
        using var probeTensor = randn(s.Probes, s.Dimension);
        double MatrixProduct()
        {
            var clock = Stopwatch.StartNew();
            using var product = probeTensor.mm(galleryTensor.t());
            return clock.Elapsed.TotalSeconds;
        }
        Search();
        MatrixProduct();
        var (ours, reference) = Measurement.Alternate(s.Rounds, Search, MatrixProduct);
        var settings = new JsonObject
        {
            ["gallery"] = $"{s.GalleryRows} x {s.Dimension}", ["identities"] = s.GalleryRows / s.RowsPerIdentity, ["probes"] = s.Probes, ["top_k"] = s.TopK,
            ["enrol_seconds"] = SpeedFigure.Round(enrolSeconds),
        };
        yield return SpeedFigure.Make("identification (Transform, top-k)", "s", Better.Lower, ours, reference,
            $"one float32 matrix product {s.Probes}x{s.Dimension} by {s.Dimension}x{s.GalleryRows}", 1.5, null, settings);

        var engine = ml.Model.CreatePredictionEngine<Face, Identified>(gallery, inputSchemaDefinition: schema);
        using var one = probeTensor.narrow(0, 0, 1);
        double Predict(int i)
        {
            var clock = Stopwatch.StartNew();
            engine.Predict(probes[i % probes.Count]);
            return clock.Elapsed.TotalMilliseconds;
        }
        double OneProduct()
        {
            var clock = Stopwatch.StartNew();
            using var product = one.mm(galleryTensor.t());
            return clock.Elapsed.TotalMilliseconds;
        }
        for (int i = 0; i < 5; i++) { Predict(i); OneProduct(); }
        var latency = new Measurement();
        var product = new Measurement();
        for (int i = 0; i < s.Latencies; i++)
        {
            latency.Add(Predict(i));
            product.Add(OneProduct());
        }
        var latencySettings = (JsonObject)settings.DeepClone();
        latencySettings["calls"] = s.Latencies;
        var line = SpeedFigure.Make("identification latency (PredictionEngine, 1 probe)", "ms", Better.Lower, latency, product,
            $"one float32 matrix product 1x{s.Dimension} by {s.Dimension}x{s.GalleryRows}", 1.5, null, latencySettings);
        line["ours_p99"] = SpeedFigure.Round(latency.Quantile(0.99));
        yield return line;
    }
}
