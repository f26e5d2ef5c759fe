using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Backbones;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>
/// The <c>speed</c> command: every figure beside its reference, measured in the same process in
/// alternating rounds (memory in processes of their own), one JSON line per figure.
/// </summary>
internal static class SpeedBenchmark
{
    public static readonly string[] Parts = { "training", "inference", "onnx", "verification", "identification", "memory" };

    public static IEnumerable<JsonObject> Run(Arguments args, string dataRoot)
    {
        var parts = args.Get("only", string.Join(",", Parts)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var part in parts)
            if (!Parts.Contains(part)) throw new ArgumentException($"Unknown part '{part}'; choose among {string.Join(", ", Parts)}.");
        int rounds = args.GetInt("rounds", 5);

        if (parts.Contains("training"))
        {
            var backbones = args.Get("backbones", "IResNet18,MobileFaceNet,SmallCnn").Split(',').Select(b => Enum.Parse<FaceBackbone>(b, ignoreCase: true));
            foreach (var backbone in backbones)
                yield return TrainingSpeed.Run(new TrainingSpeed.Settings(backbone, args.GetInt("size", 64), args.GetInt("batch", 64),
                    args.GetInt("steps", 30), args.GetInt("warmup", 3), 100, 128, args.GetInt("training-rounds", rounds)));
        }
        if (parts.Contains("inference"))
        {
            foreach (var line in InferenceSpeed.Run(new InferenceSpeed.Settings(FaceBackbone.IResNet18, args.GetInt("size", 64),
                args.GetInt("images", 10_000), 64, 128, args.GetInt("inference-rounds", rounds), args.GetInt("calls", 300))))
                yield return line;
        }
        if (parts.Contains("onnx"))
            yield return OnnxInferenceSpeed.Run(new OnnxInferenceSpeed.Settings(FaceBackbone.IResNet18, args.GetInt("size", 64),
                args.GetInt("onnx-images", 2_000), 64, 128, args.GetInt("inference-rounds", rounds)));
        if (parts.Contains("verification"))
            yield return VerificationSpeed.Run(args.GetInt("pairs", 1_000_000), 10, rounds);
        if (parts.Contains("identification"))
        {
            foreach (var line in IdentificationSpeed.Run(new IdentificationSpeed.Settings(args.GetInt("gallery", 100_000), 5, 512,
                args.GetInt("probes", 1_000), 5, rounds, args.GetInt("calls", 300))))
                yield return line;
        }
        if (parts.Contains("memory"))
        {
            foreach (var line in MemoryFigures.Run(dataRoot)) yield return line;
        }
    }
}
