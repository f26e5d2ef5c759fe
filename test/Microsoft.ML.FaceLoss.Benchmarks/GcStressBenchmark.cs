using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Testing;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>
/// The long garbage-collection stress: worker processes run <see cref="GcStress.FullPlanCase"/> one
/// case after another (every head, every backbone, SGD/Nesterov/AdamW, checkpoints with resume,
/// validation, Partial FC) under forced collection, each for a slice of the time; the supervisor
/// starts the next worker where the last one stopped and counts the workers that crashed.
/// </summary>
internal static class GcStressBenchmark
{
    /// <summary><c>stress [--minutes 10] [--worker-seconds 120]</c>: the summary as one JSON object.</summary>
    public static JsonObject Run(Arguments args)
    {
        double minutes = args.GetDouble("minutes", 10);
        int workerSeconds = args.GetInt("worker-seconds", 120);
        var clock = Stopwatch.StartNew();
        long nextCase = 0, steps = 0, embedded = 0, collections = 0;
        int fits = 0, workers = 0, crashes = 0;
        var crashReports = new JsonArray();
        while (clock.Elapsed.TotalMinutes < minutes)
        {
            int seconds = (int)Math.Max(10, Math.Min(workerSeconds, minutes * 60 - clock.Elapsed.TotalSeconds));
            var (exitCode, report, tail, completed) = RunWorker(nextCase, seconds);
            workers++;
            if (report is not null)
            {
                fits += report.Fits;
                steps += report.Steps;
                embedded += report.ImagesEmbedded;
                collections += report.ForcedCollections;
                nextCase += report.Fits;
            }
            if (exitCode != 0 || report is null)
            {
                crashes++;
                crashReports.Add(new JsonObject { ["exitCode"] = exitCode, ["case"] = GcStress.FullPlanCase(nextCase + completed).ToString(), ["output"] = tail });
                fits += completed;
                nextCase += completed + 1; // go on past the case that crashed
            }
            Console.Error.WriteLine($"worker {workers}: exit {exitCode}, {report?.Fits ?? 0} fits, {report?.ForcedCollections ?? 0} collections; {clock.Elapsed.TotalMinutes:F1} of {minutes} minutes");
        }
        return new JsonObject
        {
            ["benchmark"] = "gc-stress",
            ["command"] = $"dotnet run --project test/Microsoft.ML.FaceLoss.Benchmarks -c Release -- stress --minutes {minutes} --worker-seconds {workerSeconds}",
            ["minutes"] = Math.Round(clock.Elapsed.TotalMinutes, 2),
            ["workers"] = workers,
            ["fits"] = fits,
            ["distinctCases"] = Math.Min(nextCase, 96),
            ["steps"] = steps,
            ["imagesEmbedded"] = embedded,
            ["forcedCollections"] = collections,
            ["crashes"] = crashes,
            ["crashReports"] = crashReports,
            ["torchSharpGcSafe"] = Torch.TorchRuntime.IsGcSafe,
            ["machine"] = MachineInfo.Describe(),
        };
    }

    /// <summary>The worker: cases from <c>--first</c> on, for <c>--seconds</c>; its report is the last line.</summary>
    public static GcStressReport Worker(Arguments args)
    {
        long first = long.Parse(args.Get("first", "0"), System.Globalization.CultureInfo.InvariantCulture);
        var cases = Enumerable.Range(0, int.MaxValue).Select(i => GcStress.FullPlanCase(first + i));
        return GcStress.Run(cases, TimeSpan.FromSeconds(args.GetInt("seconds", 60)), Console.WriteLine);
    }

    private static (int ExitCode, GcStressReport? Report, string Tail, int Completed) RunWorker(long first, int seconds)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(GcStressBenchmark).Assembly.Location, "stress-worker", "--first", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seconds", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line) lines.Add(line);
        process.WaitForExit();
        string tail = string.Join("\n", lines.TakeLast(5)) + "\n" + string.Join("\n", stderr.Result.Split('\n').TakeLast(30));
        int completed = lines.Count(l => l.TrimStart() is { Length: > 0 } t && char.IsAsciiDigit(t[0])); // one progress line per finished fit
        return (process.ExitCode, GcStressReport.FromJson(lines.LastOrDefault() ?? ""), tail, completed);
    }
}
