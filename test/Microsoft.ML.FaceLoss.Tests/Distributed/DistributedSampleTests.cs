using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>samples/DistributedTraining as the README launches it: <c>mpirun -np 2 dotnet DistributedTraining.dll</c> on the ORL faces.</summary>
[Collection(TorchCollection.Name)]
public sealed class DistributedSampleTests
{
    [MpiOrlFact]
    public void TwoRanksTrainAndRankZeroAloneVerifiesAndSaves()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.Combine(TestData.RepositoryRoot, "samples", "DistributedTraining", "bin", testOutput.Parent!.Name, testOutput.Name, "DistributedTraining.dll");
        Assert.True(File.Exists(dll), $"No {dll}: build the solution.");
        string output = Path.Combine(Path.GetTempPath(), "faceloss-sample-" + Guid.NewGuid().ToString("N"));

        string printed = MpiJob.RunApplication(2, dll, "--data", TestData.OrlRoot, "--epochs", "3", "--output", output);

        Assert.Contains("rank 0 of 2: trained CosFace on 30 people", printed);
        Assert.Contains("rank 1 of 2: trained CosFace on 30 people", printed);
        Assert.Contains("epoch 3/3: loss", printed); // rank 0's progress
        Assert.Single(printed.Split('\n'), l => l.StartsWith("Verification of 10 unseen people, 450 + 4500 pairs", StringComparison.Ordinal));
        Assert.Single(printed.Split('\n'), l => l.StartsWith("Saved ", StringComparison.Ordinal));
        Assert.Equal(new[] { "face-model.zip" }, Directory.GetFiles(output).Select(Path.GetFileName));
    }
}
