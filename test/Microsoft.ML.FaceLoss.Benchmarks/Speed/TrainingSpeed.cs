using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// Training throughput of <see cref="FaceEmbeddingTrainer"/> (ArcFace, SGD, rows in memory) against
/// a hand-written TorchSharp loop of the same network, the same ArcFace arithmetic and the same
/// optimiser, with no ML.NET in it. The two alternate step by step: after each step of the trainer
/// (at its progress report) the loop runs one step, so that both meet the same machine (this one's
/// speed drifts by several percent within a minute). A round is one <c>Fit</c>; its figures are the
/// batch over the median step of each, after the warm-up steps.
/// </summary>
internal static class TrainingSpeed
{
    public sealed record Settings(FaceBackbone Backbone, int Size, int Batch, int Steps, int Warmup, int Identities, int EmbeddingSize, int Rounds);

    public static JsonObject Run(Settings s)
    {
        var (pixels, labels) = RandomImages(s);
        var data = DataView(s, pixels, labels);
        var ours = new Measurement();
        var reference = new Measurement();
        for (int round = 0; round < s.Rounds; round++)
        {
            var (trainer, loop) = Round(s, data, pixels, labels);
            ours.Add(trainer);
            reference.Add(loop);
        }
        return SpeedFigure.Make($"training {s.Backbone}", "images/s", Better.Higher, ours, reference,
            "hand-written TorchSharp loop: the same network, ArcFace arithmetic and SGD on tensors, no ML.NET; one of its steps after each of the trainer's",
            target: 0.98, absoluteLimit: null, new JsonObject
            {
                ["backbone"] = s.Backbone.ToString(), ["input"] = $"3x{s.Size}x{s.Size}", ["batch"] = s.Batch, ["head"] = "ArcFace (s 64, m 0.5)",
                ["optimizer"] = "SGD lr 0.1, momentum 0.9, weight decay 5e-4", ["embedding"] = s.EmbeddingSize, ["identities"] = s.Identities,
                ["timed_steps"] = s.Steps, ["warmup_steps"] = s.Warmup, ["trainer"] = "in memory, horizontal flip on, batches prepared on a background thread",
            });
    }

    /// <summary>One <c>Fit</c> with a step of the hand-written loop after each of its steps; images per second of each.</summary>
    private static (double Trainer, double Loop) Round(Settings s, IDataView data, float[] pixels, long[] labels)
    {
        using var loop = new HandWrittenLoop(s, pixels, labels);
        var trainerSteps = new Measurement();
        var loopSteps = new Measurement();
        var clock = Stopwatch.StartNew();
        double lastEnd = 0;
        int step = 0;
        void AfterTrainerStep()
        {
            double trainerStep = clock.Elapsed.TotalSeconds - lastEnd;
            double loopStep = loop.Step(step);
            if (step >= s.Warmup)
            {
                trainerSteps.Add(trainerStep);
                loopSteps.Add(loopStep);
            }
            step++;
            lastEnd = clock.Elapsed.TotalSeconds;
        }
        var options = new FaceEmbeddingTrainer.Options
        {
            Backbone = s.Backbone, EmbeddingSize = s.EmbeddingSize, Loss = new ArcFaceLoss.Options(),
            Epochs = 1, BatchSize = s.Batch, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 5e-4, Seed = 1,
            Progress = new ProgressCallback(_ => AfterTrainerStep()),
        };
        using var model = new MLContext(seed: 1).FaceRecognition().Trainers.Embedding(options).Fit(data);
        if (step != s.Steps + s.Warmup) throw new InvalidOperationException($"The trainer ran {step} steps, not {s.Steps + s.Warmup}.");
        return (s.Batch / trainerSteps.Median, s.Batch / loopSteps.Median);
    }

    private static (float[] Pixels, long[] Labels) RandomImages(Settings s)
    {
        int rows = s.Batch * (s.Steps + s.Warmup), length = 3 * s.Size * s.Size;
        var random = new Random(1);
        var pixels = new float[rows * length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        var labels = Enumerable.Range(0, rows).Select(i => (long)(i % s.Identities)).ToArray();
        return (pixels, labels);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private static IDataView DataView(Settings s, float[] pixels, long[] labels)
    {
        int length = 3 * s.Size * s.Size;
        var rows = labels.Select((label, i) => new Row { Features = pixels.AsSpan(i * length, length).ToArray(), Identity = $"id{label:D4}" }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, s.Size, s.Size);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        // Keys in the order of first appearance: id0000 is key 1, as label 0 is class 0 of the hand-written loop.
        return ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(data).Transform(data);
    }
}
