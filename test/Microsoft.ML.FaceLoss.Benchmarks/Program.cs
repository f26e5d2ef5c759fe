using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Benchmarks;
using Microsoft.ML.FaceLoss.Benchmarks.Distributed;
using Microsoft.ML.FaceLoss.Benchmarks.Speed;

// Benchmarks of Microsoft.ML.FaceLoss; each run prints one JSON object on a line of standard output.
const string Usage = """
usage:
  speed    [--only training,inference,verification,identification,memory] [--rounds 5] [--output speed.jsonl]
           [--backbones IResNet18,MobileFaceNet,SmallCnn] [--steps 12] [--images 10000] [--pairs 1000000]
           [--gallery 100000] [--probes 1000] [--data-root ..]
           each figure beside its reference (same process, alternating rounds), with the ratio and its target
  accuracy --dataset orl|omniglot|lfw [--head CosFace] [--backbone ..] [--width N] [--size N] [--embedding N] [--epochs N]
           [--lr X] [--dropout X] [--seed N] [--spec-head | --small-data-head] [--head-params "margin=0.1,scale=32"]
           [--align] [--frozen-stages N] [--save model.zip] [--data-root ../shared/datasets]
           --align (lfw): faces aligned by DetectFaces + AlignFaces (insightface 112, or dlib 150 for DlibResNet29),
           cached in FACELOSS_ALIGNED_CACHE or the temp folder; --backbone DlibResNet29 --size 150 --embedding 128
           fine-tunes dlib's pretrained network (--frozen-stages 0-4) and also reports it before fine-tuning
  accuracy --all [--quick | --all-heads] [--list] [--data-root ..]
           every head on orl and omniglot; on lfw every head at the comparison budget (--width 32 --epochs 10
           --small-data-head) and Softmax, CosFace and ArcFace at the full budget (--all-heads: every head);
           --quick: CosFace on each data set with fewer epochs; --list prints the runs' commands instead
  pretrained --dataset lfw [--align [--detector-size 416]] [--models ../shared/models/face-api] [--save model.zip]
           dlib's pretrained ResNet-29 as it is (no training) on LFW pairs.txt, 10 folds, with and without flip test;
           unaligned (centre crop), or --align: DetectFaces + AlignFaces to dlib's 150 x 150 chip
  evaluate --model model.zip --pairs pairs.txt|pairs.csv --images <root> [--flip]
  table    --input results.jsonl    the markdown table of the README from the JSON lines of accuracy runs
  table    --speed speed.jsonl      the README's speed table from the JSON lines of speed runs
  distributed [--only throughput,memory] [--rounds 3] [--backbone IResNet18] [--size 64] [--batch 64] [--steps 12]
           [--identities 1000000] [--embedding 512] [--ranks 1,2,4]
           needs Open MPI (mpirun): training images/s of 2 ranks x 1 thread against 1 process x 2 threads, and the
           memory per rank of sharded class weights (measured for --ranks, computed for 8, 16 and 64 ranks)
  stress   [--minutes 10] [--worker-seconds 120]
           training and embedding under forced garbage collection, every head, backbone and optimizer, in
           worker processes; prints fits, steps, forced collections and crashes
""";
var arguments = new Arguments(args);
var json = new JsonSerializerOptions { WriteIndented = false };
string dataRoot = Path.GetFullPath(arguments.Get("data-root", Environment.GetEnvironmentVariable("FACELOSS_DATASETS") is { Length: > 0 } env ? env : Path.Combine("..", "shared", "datasets")));
void Print(JsonObject result)
{
    Console.WriteLine(result.ToJsonString(json));
    Console.Out.Flush();
}
switch (arguments.Command)
{
    case "speed":
        foreach (var line in SpeedBenchmark.Run(arguments, dataRoot))
        {
            Print(line);
            if (arguments.GetOrNull("output") is { } output) File.AppendAllText(output, line.ToJsonString(json) + Environment.NewLine);
        }
        return 0;
    case "speed-worker":
        Print(MemoryFigures.Worker(arguments.Get("worker", ""), dataRoot));
        return 0;
    case "accuracy" when arguments.Has("all"):
        foreach (var config in AccuracyBenchmark.Suite(arguments, arguments.Has("quick"), arguments.Has("all-heads")))
        {
            if (arguments.Has("list")) Console.WriteLine(AccuracyBenchmark.Command(config));
            else Print(AccuracyBenchmark.Run(config, dataRoot, null));
        }
        return 0;
    case "accuracy":
        string name = arguments.Get("dataset", "orl");
        if (!Directory.Exists(Path.Combine(dataRoot, name)))
        {
            Console.Error.WriteLine($"No data set '{name}' under '{dataRoot}'; pass --data-root or set FACELOSS_DATASETS.");
            return 1;
        }
        Print(AccuracyBenchmark.Run(AccuracyBenchmark.Defaults(name, arguments), dataRoot, arguments.GetOrNull("save")));
        return 0;
    case "evaluate":
        string? model = arguments.GetOrNull("model"), pairs = arguments.GetOrNull("pairs"), images = arguments.GetOrNull("images");
        if (model is null || pairs is null || images is null) goto default;
        Print(AccuracyBenchmark.Evaluate(model, pairs, images, arguments.Has("flip")));
        return 0;
    case "pretrained":
        Print(arguments.Has("align")
            ? AccuracyBenchmark.PretrainedAligned(dataRoot, arguments.GetOrNull("models"), arguments.GetOrNull("save"), int.Parse(arguments.Get("detector-size", "416")))
            : AccuracyBenchmark.Pretrained(dataRoot, arguments.GetOrNull("models"), arguments.GetOrNull("save")));
        return 0;
    case "distributed":
        foreach (var line in DistributedBenchmark.Run(arguments))
        {
            Print(line);
            if (arguments.GetOrNull("output") is { } output) File.AppendAllText(output, line.ToJsonString(json) + Environment.NewLine);
        }
        return 0;
    case "distributed-worker":
        if (DistributedBenchmark.Worker(arguments) is { } figure) Print(figure);
        return 0;
    case "stress":
        Print(GcStressBenchmark.Run(arguments));
        return 0;
    case "stress-worker":
        Console.WriteLine(GcStressBenchmark.Worker(arguments).ToJson());
        return 0;
    case "table" when arguments.GetOrNull("speed") is { } speed && File.Exists(speed):
        Console.Write(SpeedTable.Markdown(File.ReadLines(speed)));
        return 0;
    case "table" when arguments.GetOrNull("input") is { } input && File.Exists(input):
        Console.Write(ResultsTable.Markdown(File.ReadLines(input)));
        return 0;
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
