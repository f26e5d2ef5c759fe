using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Torch;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Testing;

/// <summary>One fit of the garbage-collection stress: which network, head and training features it uses.</summary>
internal sealed record GcStressCase(FaceBackbone Backbone, string Head, FaceOptimizer Optimizer, bool Nesterov = false,
    bool Checkpoints = false, bool Validation = false, double SampleRate = 1)
{
    public override string ToString()
        => $"{Backbone} {Head} {Optimizer}{(Nesterov ? " Nesterov" : "")}{(Checkpoints ? " checkpoints+resume" : "")}" +
           $"{(Validation ? " validation" : "")}{(SampleRate < 1 ? $" PartialFC {SampleRate.ToString(CultureInfo.InvariantCulture)}" : "")}";
}

/// <summary>What a stress run did.</summary>
internal sealed record GcStressReport(int Fits, long Steps, long ImagesEmbedded, long ForcedCollections, double Seconds, bool TorchSharpGcSafe, string? LastCase)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static GcStressReport? FromJson(string line)
    {
        try { return JsonSerializer.Deserialize<GcStressReport>(line); }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// Trains and embeds with tiny networks while another thread forces garbage collections and waits
/// for finalizers in a loop. Before TorchSharp was woven GC-safe, this aborted the process within
/// seconds (a Scalar freed by its finalizer during the native call that used it). Run it in a
/// process of its own: an abort must fail the caller, not kill it.
/// </summary>
internal static class GcStress
{
    public const int Channels = 3, Size = 24, Identities = 8, ImagesPerIdentity = 6;

    /// <summary>The backbones of the library (all but Custom).</summary>
    public static readonly FaceBackbone[] Backbones =
    {
        FaceBackbone.SmallCnn, FaceBackbone.LeNetPlusPlus, FaceBackbone.MobileFaceNet,
        FaceBackbone.IResNet18, FaceBackbone.IResNet34, FaceBackbone.IResNet50,
    };

    /// <summary>One head of each family: classifier, centre, pair, triplet, and the heads with state (AdaCos, CurricularFace, AdaFace, L-Softmax).</summary>
    public static readonly string[] HeadFamilies =
        { "ArcFace", "CenterLoss", "Contrastive", "Triplet", "AdaCos", "CurricularFace", "AdaFace", "LargeMarginSoftmax" };

    /// <summary>Every backbone with every head family, SGD: the default test run's stress.</summary>
    public static IReadOnlyList<GcStressCase> QuickPlan()
        => Backbones.SelectMany(b => HeadFamilies.Select(h => new GcStressCase(b, h, FaceOptimizer.Sgd))).ToList();

    /// <summary>
    /// <paramref name="plan"/> over and over, whole rounds only, until <paramref name="minimumSeconds"/>
    /// have passed: the race this stress provokes is rare per step, so time, not a case count, sets its power.
    /// </summary>
    public static IEnumerable<GcStressCase> Rounds(IReadOnlyList<GcStressCase> plan, double minimumSeconds)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            foreach (var stressCase in plan) yield return stressCase;
        }
        while (clock.Elapsed.TotalSeconds < minimumSeconds);
    }

    /// <summary>
    /// Case <paramref name="index"/> of the long stress: every head on every backbone in turn, with
    /// SGD, Nesterov SGD and AdamW, checkpoints with a resume, validation and Partial FC spread over the cases.
    /// </summary>
    public static GcStressCase FullPlanCase(long index)
    {
        var heads = FaceLossHeads.Names.ToArray();
        string head = heads[index % heads.Length];
        var backbone = Backbones[index / heads.Length % Backbones.Length];
        int optimizer = (int)(index % 3);
        var loss = FaceLossHeads.CreateOptions(head);
        bool canSample = loss is ClassifierOptions && head is not ("CenterLoss" or "Softmax");
        return new GcStressCase(backbone, head, optimizer == 2 ? FaceOptimizer.AdamW : FaceOptimizer.Sgd, Nesterov: optimizer == 1,
            Checkpoints: index % 2 == 0, Validation: index % 3 == 1, SampleRate: canSample && index % 4 == 0 ? 0.5 : 1);
    }

    /// <summary>
    /// Runs <paramref name="cases"/> (until <paramref name="budget"/> is spent, where given) while a
    /// second thread collects garbage in a loop.
    /// </summary>
    public static GcStressReport Run(IEnumerable<GcStressCase> cases, TimeSpan? budget, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        long collections = 0;
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true, Name = "GC stress collector" };
        collector.Start();

        int fits = 0;
        long steps = 0, embedded = 0;
        string? last = null;
        try
        {
            foreach (var stressCase in cases)
            {
                if (budget is { } b && clock.Elapsed > b) break;
                last = stressCase.ToString();
                var (caseSteps, caseEmbedded) = RunCase(stressCase, fits);
                fits++;
                steps += caseSteps;
                embedded += caseEmbedded;
                log($"{fits,4} {stressCase}: {caseSteps} steps, {caseEmbedded} images embedded, {Interlocked.Read(ref collections)} collections so far");
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        return new GcStressReport(fits, steps, embedded, collections, Math.Round(clock.Elapsed.TotalSeconds, 1), TorchRuntime.IsGcSafe, last);
    }

    private static (long Steps, long Embedded) RunCase(GcStressCase stressCase, int seed)
    {
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(Rows(seed), SchemaDefinition.Create(typeof(Row)).WithVectorShape(nameof(Row.Features), Channels, Size, Size));
        var loss = FaceLossHeads.CreateSmallDataOptions(stressCase.Head);
        if (stressCase.SampleRate < 1) ((ClassifierOptions)loss).SampleRate = stressCase.SampleRate;
        string? folder = stressCase.Checkpoints ? Path.Combine(Path.GetTempPath(), $"faceloss-gc-stress-{Environment.ProcessId}-{seed}") : null;
        var options = new FaceEmbeddingTrainer.Options
        {
            Backbone = stressCase.Backbone,
            BackboneWidth = stressCase.Backbone == FaceBackbone.MobileFaceNet ? 8 : 4,
            EmbeddingSize = 16,
            Loss = loss,
            Epochs = 2,
            BatchSize = 16,
            ImagesPerIdentity = 4,
            Optimizer = stressCase.Optimizer,
            Nesterov = stressCase.Nesterov,
            LearningRate = stressCase.Optimizer == FaceOptimizer.AdamW ? 1e-3 : 0.05,
            ValidationIdentityFraction = stressCase.Validation ? 0.25 : 0,
            CheckpointFolder = folder,
            CheckpointEverySteps = stressCase.Checkpoints ? 2 : 0,
            Seed = seed,
            NumberOfThreads = 1,
        };
        try
        {
            long steps = 0;
            var progress = new ProgressCallback(_ => steps++);
            options.Progress = progress;
            if (folder is not null)
            {
                // Train one epoch, then resume from the checkpoint for the second.
                options.Epochs = 1;
                (Pipeline(ml, options).Fit(data) as IDisposable)?.Dispose();
                options.Epochs = 2;
            }
            var transformer = Pipeline(ml, options).Fit(data);
            using var disposeModel = transformer as IDisposable;
            long embedded = ml.Data.CreateEnumerable<EmbeddingRow>(transformer.Transform(data), reuseRowObject: true).Count(r => r.Embedding.Length == 16);

            // Save and load the model, and embed with the loaded copy.
            using var stream = new MemoryStream();
            ml.Model.Save(transformer, data.Schema, stream);
            stream.Position = 0;
            var loaded = ml.Model.Load(stream, out _);
            embedded += ml.Data.CreateEnumerable<EmbeddingRow>(loaded.Transform(data), reuseRowObject: true).Count(r => r.Embedding.Length == 16);
            (loaded as IDisposable)?.Dispose();
            return (steps, embedded);
        }
        finally
        {
            if (folder is not null && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static EstimatorChain<FaceEmbeddingTransformer> Pipeline(MLContext ml, FaceEmbeddingTrainer.Options options)
        => ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Append(ml.FaceRecognition().Trainers.Embedding(options));

    private static List<Row> Rows(int seed)
    {
        var random = new Random(seed);
        var rows = new List<Row>();
        int length = Channels * Size * Size;
        for (int id = 0; id < Identities; id++)
        {
            var pattern = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            for (int k = 0; k < ImagesPerIdentity; k++)
                rows.Add(new Row { Identity = $"id{id}", Features = pattern.Select(v => v + (float)(random.NextDouble() - 0.5) * 0.5f).ToArray() });
        }
        return rows;
    }

    private static SchemaDefinition WithVectorShape(this SchemaDefinition schema, string column, params int[] dimensions)
    {
        schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        return schema;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
