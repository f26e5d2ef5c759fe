using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Torch;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// Memory, each measured in a process of its own so that its peak is its own: the peak working set
/// of one epoch of training on LFW DevTrain at 64x64 through the trainer, beside the same epoch by
/// the hand-written loop on the same images held as one tensor; and the working set of a
/// <c>PredictionEngine</c> after 10,000 calls against after 1,000.
/// </summary>
internal static class MemoryFigures
{
    private const double Megabyte = 1 << 20;
    private const string LfwFigure = "memory: training LFW DevTrain, 1 epoch (peak working set)";

    /// <summary>The figures: each worker in a child process.</summary>
    public static IEnumerable<JsonObject> Run(string dataRoot)
    {
        if (!File.Exists(Path.Combine(dataRoot, "lfw", "peopleDevTrain.txt")))
        {
            yield return new JsonObject { ["benchmark"] = "speed", ["figure"] = LfwFigure, ["skipped"] = $"no LFW under '{dataRoot}'; pass --data-root" };
        }
        else if (InChild("lfw-training", dataRoot) is var ours && InChild("lfw-training-by-hand", dataRoot) is var byHand
                 && ours["error"] is null && byHand["error"] is null)
        {
            var settings = (JsonObject)ours.DeepClone();
            settings["hand_written_seconds"] = byHand["seconds"]?.DeepClone();
            settings.Remove("peak_mb");
            yield return SpeedFigure.Make(LfwFigure, "MB", Better.Lower, Single((double)ours["peak_mb"]!), Single((double)byHand["peak_mb"]!),
                "the hand-written loop (same network, head, optimiser, batch) over the same images held as one tensor, in a process of its own",
                1.25, null, settings);
        }
        else
        {
            yield return new JsonObject { ["benchmark"] = "speed", ["figure"] = LfwFigure, ["error"] = (ours["error"] ?? byHand["error"])!.DeepClone(), ["stderr_tail"] = (ours["stderr_tail"] ?? byHand["stderr_tail"])?.DeepClone() };
        }

        var predict = InChild("predict", dataRoot);
        if (predict["error"] is not null)
        {
            yield return predict;
            yield break;
        }
        yield return SpeedFigure.Make("memory: PredictionEngine working set after 10,000 calls", "MB", Better.Lower,
            Single((double)predict["after_10000_mb"]!), Single((double)predict["after_1000_mb"]!),
            "the working set after 1,000 calls (after a full garbage collection, both)", 1.05, null, (JsonObject)predict["settings"]!.DeepClone());
    }

    private static Measurement Single(double value)
    {
        var m = new Measurement();
        m.Add(value);
        return m;
    }

    /// <summary>Runs a worker in a child process; returns its JSON line, or an object with <c>error</c> that says why there is none.</summary>
    private static JsonObject InChild(string worker, string dataRoot)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(MemoryFigures).Assembly.Location, "speed-worker", "--worker", worker, "--data-root", dataRoot })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode == 0 && last is not null && JsonNode.Parse(last) is JsonObject line) return line;
        return new JsonObject
        {
            ["error"] = $"the worker '{worker}' exited with {process.ExitCode}",
            ["stderr_tail"] = string.Join("\n", stderr.Result.Split('\n').TakeLast(10)),
        };
    }

    /// <summary>The worker of the <c>speed-worker</c> command: prints what it measured.</summary>
    public static JsonObject Worker(string worker, string dataRoot) => worker switch
    {
        "lfw-training" => LfwTraining(dataRoot),
        "lfw-training-by-hand" => LfwTrainingByHand(dataRoot),
        "predict" => PredictionEngineGrowth(),
        _ => throw new ArgumentException($"Unknown speed worker '{worker}'."),
    };

    private static double PeakMb()
    {
        using var self = Process.GetCurrentProcess();
        return Math.Round(self.PeakWorkingSet64 / Megabyte);
    }

    private static double WorkingSetMb()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return Math.Round(self.WorkingSet64 / Megabyte, 1);
    }

    private static AccuracyBenchmark.Config LfwConfig() => AccuracyBenchmark.Defaults("lfw", new Arguments(Array.Empty<string>())) with { Epochs = 1 };

    /// <summary>One epoch of the LFW benchmark's training (IResNet-18, 3x64x64, batch 64) through the trainer.</summary>
    private static JsonObject LfwTraining(string dataRoot)
    {
        var ml = new MLContext(seed: 1);
        var config = LfwConfig();
        var (pipeline, training) = AccuracyBenchmark.LfwTraining(ml, config, dataRoot);
        var (model, seconds, images) = AccuracyBenchmark.Fit(ml, pipeline, training);
        ((IEnumerable<ITransformer>)model).OfType<FaceEmbeddingTransformer>().Single().Dispose();
        return new JsonObject
        {
            ["peak_mb"] = PeakMb(), ["backbone"] = config.Backbone.ToString(), ["input"] = $"3x{config.Size}x{config.Size}", ["batch"] = 64,
            ["epochs"] = 1, ["images"] = images, ["pixels_mb"] = Math.Round(images * 3.0 * config.Size * config.Size * sizeof(float) / Megabyte), ["seconds"] = seconds,
        };
    }

    private sealed class PixelRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public uint Label { get; set; }
    }

    /// <summary>The same epoch by the hand-written loop: the images read by the same ML.NET steps into one array first.</summary>
    private static JsonObject LfwTrainingByHand(string dataRoot)
    {
        var ml = new MLContext(seed: 1);
        var config = LfwConfig();
        var (_, training) = AccuracyBenchmark.LfwTraining(ml, config, dataRoot);
        var preprocessing = AccuracyBenchmark.LfwPreprocessing(ml, config);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(training).Transform(training);
        var rows = ml.Data.CreateEnumerable<PixelRow>(preprocessing.Fit(keyed).Transform(keyed), reuseRowObject: true);
        int length = 3 * config.Size * config.Size, count = (int)training.GetRowCount()!.Value, n = 0;
        var pixels = new float[(long)count * length];
        var labels = new long[count];
        foreach (var row in rows)
        {
            row.Features.CopyTo(pixels, (long)n * length);
            labels[n++] = row.Label - 1;
        }
        int identities = (int)labels.Max() + 1, steps = count / 64;
        var clock = Stopwatch.StartNew();
        using (var loop = new HandWrittenLoop(new TrainingSpeed.Settings(config.Backbone, config.Size, 64, steps, 0, identities, config.Embedding, 1), pixels, labels, shareMemory: true))
        {
            for (int step = 0; step < steps; step++) loop.Step(step);
        }
        return new JsonObject { ["peak_mb"] = PeakMb(), ["images"] = count, ["identities"] = identities, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1) };
    }

    /// <summary>The working set after 1,000 and after 10,000 predictions of one engine (IResNet-18, 3x64x64).</summary>
    private static JsonObject PredictionEngineGrowth()
    {
        const int size = 64;
        var ml = new MLContext(seed: 1);
        using var model = InferenceSpeed.Model(FaceBackbone.IResNet18, size, 128, 64);
        var engine = ml.Model.CreatePredictionEngine<InferenceSpeed.PixelRow, InferenceSpeed.EmbeddingRow>(model, inputSchemaDefinition: InferenceSpeed.Schema(size));
        var random = new Random(1);
        var inputs = Enumerable.Range(0, 16).Select(_ => new InferenceSpeed.PixelRow
        {
            Features = Enumerable.Range(0, 3 * size * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
        }).ToArray();
        var output = new InferenceSpeed.EmbeddingRow();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 1_000; i++) engine.Predict(inputs[i % inputs.Length], ref output);
        double after1000 = WorkingSetMb();
        for (int i = 1_000; i < 10_000; i++) engine.Predict(inputs[i % inputs.Length], ref output);
        double after10000 = WorkingSetMb();
        return new JsonObject
        {
            ["after_1000_mb"] = after1000, ["after_10000_mb"] = after10000,
            ["settings"] = new JsonObject { ["backbone"] = "IResNet18", ["input"] = $"3x{size}x{size}", ["calls"] = 10_000, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1) },
        };
    }
}
