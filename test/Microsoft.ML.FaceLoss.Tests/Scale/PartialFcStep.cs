using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Torch;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Scale;

/// <summary>
/// One training step of ArcFace over very many identities with Partial FC, in a process of its own
/// (<c>partial-fc-step &lt;identities&gt; &lt;embedding size&gt; &lt;sample rate&gt;</c>) so that its peak
/// working set is its own; prints what it measured as JSON.
/// </summary>
internal static class PartialFcStep
{
    private const double Megabyte = 1 << 20;

    public static string Run(int identities, int embeddingSize, double sampleRate)
    {
        TorchRuntime.EnsureLoaded();
        GC.Collect();
        double baseline = Process.GetCurrentProcess().WorkingSet64 / Megabyte;
        var ml = new MLContext(seed: 1);
        // 16 identities spread over the whole key range, 4 images each: one batch of 64.
        var keyed = ManyIdentities.Keyed(ml, identities, rows: 64, channels: 1, size: 16);
        var losses = new List<double>();
        var clock = Stopwatch.StartNew();
        using var model = ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.SmallCnn, BackboneWidth = 8, EmbeddingSize = embeddingSize,
            Loss = new ArcFaceLoss.Options { SampleRate = sampleRate }, Epochs = 1, BatchSize = 64, Seed = 1,
            Progress = new ProgressCallback(p => losses.Add(p.Loss)),
        }).Fit(keyed);
        double seconds = clock.Elapsed.TotalSeconds;
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / Megabyte;
        return new JsonObject
        {
            ["identities"] = identities, ["embedding"] = embeddingSize, ["sample_rate"] = sampleRate,
            ["steps"] = losses.Count, ["loss"] = losses.LastOrDefault(double.NaN), ["seconds"] = Math.Round(seconds, 2),
            ["baseline_mb"] = Math.Round(baseline), ["peak_mb"] = Math.Round(peak),
            ["class_weights_mb"] = Math.Round((double)identities * embeddingSize * sizeof(float) / Megabyte),
        }.ToJsonString();
    }

    public static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
