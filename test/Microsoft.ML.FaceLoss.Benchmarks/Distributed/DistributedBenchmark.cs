using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Torch;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Benchmarks.Distributed;

/// <summary>
/// The <c>distributed</c> command: training throughput of 2 MPI ranks with 1 torch thread each against
/// 1 process with 2 threads (the same global batch per step, alternating rounds, the median), and the
/// memory per rank of sharded class weights for 1,000,000 identities at 512-D with 1, 2 and 4 ranks
/// (measured: the growth of each rank's peak working set over one training step), beside the class
/// weights' state computed for more ranks. Each figure is one JSON line.
/// </summary>
internal static class DistributedBenchmark
{
    private const double Megabyte = 1 << 20;

    public static IEnumerable<JsonObject> Run(Arguments args)
    {
        if (MpiLauncher.Mpirun is null)
            throw new InvalidOperationException("mpirun is not on the PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev).");
        var parts = args.Get("only", "throughput,memory").Split(',');
        if (parts.Contains("throughput")) yield return Throughput(args);
        if (parts.Contains("memory"))
            foreach (var line in Memory(args)) yield return line;
    }

    private static JsonObject Throughput(Arguments args)
    {
        int rounds = args.GetInt("rounds", 3), batch = args.GetInt("batch", 64), steps = args.GetInt("steps", 12), warmup = args.GetInt("warmup", 3);
        string backbone = args.Get("backbone", "IResNet18");
        int size = args.GetInt("size", 64);
        string[] Worker(int perRank, int threads) => new[]
        {
            "distributed-worker", "--mode", "throughput", "--batch", $"{perRank}", "--threads", $"{threads}", "--steps", $"{steps}",
            "--warmup", $"{warmup}", "--backbone", backbone, "--size", $"{size}", "--global-batch", $"{batch}",
        };
        var oneProcess = new List<double>();
        var twoRanks = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            oneProcess.Add((double)Single(Launch(null, Worker(batch, 2)))["images_per_second"]!);
            twoRanks.Add((double)Single(Launch(2, Worker(batch / 2, 1)))["images_per_second"]!);
        }
        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        double ranks = Median(twoRanks), threads = Median(oneProcess);
        return new JsonObject
        {
            ["benchmark"] = "distributed throughput",
            ["figure"] = "training images/s, 2 MPI ranks x 1 torch thread against 1 process x 2 torch threads",
            ["ranks_2_threads_1_images_per_second"] = Math.Round(ranks, 1),
            ["ranks_1_threads_2_images_per_second"] = Math.Round(threads, 1),
            ["ratio"] = Math.Round(ranks / threads, 3),
            ["rounds_ranks_2"] = new JsonArray(twoRanks.Select(v => (JsonNode)Math.Round(v, 1)).ToArray()),
            ["rounds_ranks_1"] = new JsonArray(oneProcess.Select(v => (JsonNode)Math.Round(v, 1)).ToArray()),
            ["setup"] = $"{backbone}, 3x{size}x{size}, ArcFace over 1,000 identities, SGD; {batch} images per step in both (2 x {batch / 2} with 2 ranks); " +
                $"{warmup} warm-up steps, {steps} timed; median of {rounds} alternating rounds",
            ["machine"] = MachineInfo.Describe(),
        };
    }

    private static IEnumerable<JsonObject> Memory(Arguments args)
    {
        int identities = args.GetInt("identities", 1_000_000), embedding = args.GetInt("embedding", 512), batch = args.GetInt("batch", 64);
        var measured = args.Get("ranks", "1,2,4").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
        (int Ranks, double Growth)? first = null;
        foreach (int ranks in measured)
        {
            var worker = new[] { "distributed-worker", "--mode", "memory", "--identities", $"{identities}", "--embedding", $"{embedding}", "--batch", $"{batch / ranks}" };
            var lines = Launch(ranks == 1 ? null : ranks, worker).OrderBy(l => (int)l["rank"]!).ToList();
            var line = MemoryLine(identities, embedding, batch, ranks);
            line["measured"] = true;
            line["peak_growth_mb_per_rank"] = new JsonArray(lines.Select(l => (JsonNode)Math.Round((double)l["peak_mb"]! - (double)l["baseline_mb"]!)).ToArray());
            line["peak_mb_per_rank"] = new JsonArray(lines.Select(l => (JsonNode)(double)l["peak_mb"]!).ToArray());
            line["step_seconds"] = lines.Max(l => (double)l["seconds"]!);
            line["loss"] = (double)lines[0]["loss"]!;
            first ??= (ranks, lines.Max(l => (double)l["peak_mb"]! - (double)l["baseline_mb"]!));
            yield return line;
        }
        foreach (int ranks in new[] { 8, 16, 64 }.Where(r => !measured.Contains(r)))
        {
            var line = MemoryLine(identities, embedding, batch, ranks);
            line["measured"] = false;
            if (first is { } f)
            {
                line["peak_growth_mb_per_rank_projected"] = Math.Round(f.Growth * f.Ranks / ranks);
                line["projected_from"] = $"the measured peak growth of {f.Ranks} rank(s) x {f.Ranks} / {ranks} (the class weights dominate and shard evenly)";
            }
            yield return line;
        }
    }

    /// <summary>What the class weights of one rank hold, computed: W's shard, its gradient and SGD's momentum.</summary>
    private static JsonObject MemoryLine(int identities, int embedding, int batch, int ranks)
    {
        double shard = Math.Ceiling((double)identities / ranks) * embedding * sizeof(float) / Megabyte;
        return new JsonObject
        {
            ["benchmark"] = "distributed memory",
            ["figure"] = $"memory per rank of sharded class weights, {identities:N0} identities x {embedding}-D, {ranks} rank(s)",
            ["ranks"] = ranks, ["identities"] = identities, ["embedding"] = embedding, ["global_batch"] = batch,
            ["class_weight_shard_mb_computed"] = Math.Round(shard),
            ["class_weight_state_mb_computed"] = Math.Round(3 * shard),
            ["computed_from"] = "W's shard (C/N x D float32), its gradient and SGD's momentum: 3 x C/N x D x 4 bytes; ArcFace with SampleRate 1 " +
                "also holds the normalized shard and its gradient during a step, and SGD's weight decay a shard-sized temporary",
            ["machine"] = MachineInfo.Describe(),
        };
    }

    /// <summary>Runs this benchmark's worker as <paramref name="ranks"/> MPI ranks, or as one process where null; its JSON lines.</summary>
    private static List<JsonObject> Launch(int? ranks, string[] worker)
    {
        var start = MpiLauncher.StartInfo(ranks, typeof(DistributedBenchmark).Assembly.Location, worker);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The worker ({string.Join(" ", start.ArgumentList)}) failed with exit code {process.ExitCode}: {output}\n{stderr.Result}");
        return output.Split('\n').Where(l => l.StartsWith('{')).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
    }

    private static JsonObject Single(List<JsonObject> lines)
        => lines.Count == 1 ? lines[0] : throw new InvalidOperationException($"Expected one JSON line from rank 0; got {lines.Count}.");

    /// <summary>One rank's share of a figure (the <c>distributed-worker</c> command).</summary>
    public static JsonObject? Worker(Arguments args)
        => args.Get("mode", "") switch
        {
            "throughput" => ThroughputWorker(args),
            "memory" => MemoryWorker(args),
            _ => throw new ArgumentException("--mode throughput|memory"),
        };

    /// <summary>Trains warm-up + timed steps; rank 0 returns the images per second of the timed steps (every rank's images).</summary>
    private static JsonObject? ThroughputWorker(Arguments args)
    {
        int perRank = args.GetInt("batch", 64), steps = args.GetInt("steps", 12), warmup = args.GetInt("warmup", 3), size = args.GetInt("size", 64);
        int globalBatch = args.GetInt("global-batch", perRank);
        var backbone = Enum.Parse<FaceBackbone>(args.Get("backbone", "IResNet18"), ignoreCase: true);
        var ml = new MLContext(seed: 1);
        var keyed = ManyIdentities.Keyed(ml, identities: 1000, rows: globalBatch * (steps + warmup), channels: 3, size: size);
        var ends = new List<double>();
        var clock = Stopwatch.StartNew();
        using var model = ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = backbone, EmbeddingSize = 128, Loss = new ArcFaceLoss.Options(), Epochs = 1, BatchSize = perRank, Seed = 1,
            NumberOfThreads = args.GetInt("threads", 1), Progress = new ProgressCallback(_ => ends.Add(clock.Elapsed.TotalSeconds)),
        }).Fit(keyed);
        if (!DistributedTraining.IsMainProcess) return null;
        double seconds = ends[^1] - ends[warmup - 1];
        return new JsonObject { ["images_per_second"] = (ends.Count - warmup) * (double)globalBatch / seconds, ["steps"] = ends.Count };
    }

    /// <summary>One step of ArcFace with the class weights sharded over the job's ranks; every rank returns its memory.</summary>
    private static JsonObject MemoryWorker(Arguments args)
    {
        int identities = args.GetInt("identities", 1_000_000), embedding = args.GetInt("embedding", 512), batch = args.GetInt("batch", 64);
        TorchRuntime.EnsureLoaded();
        GC.Collect();
        double baseline = Process.GetCurrentProcess().WorkingSet64 / Megabyte;
        var ml = new MLContext(seed: 1);
        var keyed = ManyIdentities.Keyed(ml, identities, rows: batch * DistributedTraining.RankCount, channels: 3, size: 16);
        double loss = double.NaN;
        var clock = Stopwatch.StartNew();
        using var model = ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.SmallCnn, BackboneWidth = 8, EmbeddingSize = embedding, Loss = new ArcFaceLoss.Options(),
            Epochs = 1, BatchSize = batch, Seed = 1, NumberOfThreads = 1, ShardClassWeights = true,
            Progress = new ProgressCallback(p => loss = p.Loss),
        }).Fit(keyed);
        return new JsonObject
        {
            ["rank"] = DistributedTraining.Rank, ["baseline_mb"] = Math.Round(baseline),
            ["peak_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / Megabyte), ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            ["loss"] = DistributedTraining.IsMainProcess ? loss : null, // progress (and the loss) reaches rank 0 only
        };
    }
}
