using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Microsoft.ML.FaceLoss.Tests.Scale;

/// <summary>Very many identities: one Partial FC step over 100,000 identities, in a process of its own.</summary>
public sealed class PartialFcScaleTests
{
    private static JsonObject Step(int identities, int embeddingSize, double sampleRate)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(Program).Assembly.Location, "partial-fc-step", $"{identities}", $"{embeddingSize}", $"{sampleRate:R}" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "The Partial FC step did not end within 2 minutes.");
        Assert.True(process.ExitCode == 0, $"The Partial FC step failed with {process.ExitCode}: {stderr.Result}");
        return (JsonObject)JsonNode.Parse(output.Trim().Split('\n')[^1])!;
    }

    /// <summary>
    /// The stated memory: W (100,000 x 512 floats, 195 MB) with its gradient and SGD momentum, plus the
    /// temporary W-sized tensor of TorchSharp's SGD weight decay, 4 W; the budget allows 5 W + 200 MB
    /// over the process before training. (With SampleRate 1 the normalized W and its gradient add 2 W.)
    /// </summary>
    [Fact]
    public void OneStepOverOneHundredThousandIdentitiesRunsWithinTheStatedMemory()
    {
        var result = Step(100_000, 512, 0.1);
        Assert.Equal(1, (int)result["steps"]!);
        Assert.True(double.IsFinite((double)result["loss"]!), $"The loss is {result["loss"]}.");
        double weights = (double)result["class_weights_mb"]!, growth = (double)result["peak_mb"]! - (double)result["baseline_mb"]!;
        Assert.Equal(195, weights);
        Assert.True(growth <= 5 * weights + 200, $"Training grew the working set by {growth} MB; the budget is 5 W + 200 MB = {5 * weights + 200} MB.");
    }
}
