using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>
/// Training throughput: images per second of full training steps (forward, loss, backward, SGD
/// step) through <c>FaceEmbeddingTrainer</c>, on random images so that nothing is read from disk.
/// The first steps (allocation, warm-up of the kernels) are not counted.
/// </summary>
internal static class SpeedBenchmark
{
    public static JsonObject Run(Arguments args)
    {
        var backbone = Enum.Parse<FaceBackbone>(args.Get("backbone", "IResNet18"), ignoreCase: true);
        int size = args.GetInt("size", 64), channels = args.GetInt("channels", 3), batch = args.GetInt("batch", 64);
        int steps = args.GetInt("steps", 12), warmup = args.GetInt("warmup", 3), identities = args.GetInt("identities", 100);
        string head = args.Get("head", "ArcFace");
        int? threads = args.Has("threads") ? args.GetInt("threads", 2) : null;

        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        int count = batch * (steps + warmup);
        var rows = Enumerable.Range(0, count).Select(i => new Row
        {
            Features = Enumerable.Range(0, channels * size * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            Identity = (i % identities).ToString(),
        });
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, channels, size, size);
        var data = ml.Data.LoadFromEnumerable(rows, schema);

        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        var options = new FaceEmbeddingTrainer.Options
        {
            Backbone = backbone, EmbeddingSize = args.GetInt("embedding", 128), Loss = FaceLossHeads.CreateOptions(head),
            Epochs = 1, BatchSize = batch, LearningRate = 0.01, Seed = 1, NumberOfThreads = threads,
            Progress = new Callback(_ => times.Add(clock.Elapsed.TotalSeconds)),
        };
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Identity")
            .Append(ml.FaceRecognition().Trainers.Embedding(options)).Fit(data);
        model.LastTransformer.Dispose();

        double timed = times[^1] - times[warmup - 1];
        int timedSteps = times.Count - warmup;
        return new JsonObject
        {
            ["benchmark"] = "training-step",
            ["backbone"] = backbone.ToString(),
            ["input"] = $"{channels}x{size}x{size}",
            ["batch"] = batch,
            ["head"] = head,
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["timed_steps"] = timedSteps,
            ["seconds"] = Math.Round(timed, 3),
            ["images_per_second"] = Math.Round(timedSteps * batch / timed, 1),
            ["peak_working_set_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20),
            ["machine"] = MachineInfo.Describe(),
        };
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class Callback(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
