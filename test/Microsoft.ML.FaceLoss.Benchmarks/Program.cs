using System.Text.Json;
using Microsoft.ML.FaceLoss.Benchmarks;

// Benchmarks of Microsoft.ML.FaceLoss; each prints one JSON object per run on standard output.
//   speed [--backbone IResNet18] [--size 64] [--channels 3] [--batch 64] [--head ArcFace] [--steps 12] [--threads N]
var arguments = new Arguments(args);
var json = new JsonSerializerOptions { WriteIndented = false };
switch (arguments.Command)
{
    case "speed":
        Console.WriteLine(SpeedBenchmark.Run(arguments).ToJsonString(json));
        return 0;
    default:
        Console.Error.WriteLine("usage: speed [--backbone IResNet18] [--size 64] [--channels 3] [--batch 64] [--head ArcFace] [--steps 12] [--threads N]");
        return 2;
}
