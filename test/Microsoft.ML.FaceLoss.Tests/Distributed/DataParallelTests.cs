using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>
/// Data-parallel training over MPI: 2 ranks with batches of 32 against one process that accumulates
/// the gradients of the same two micro-batches of 32, after 20 steps (see <see cref="DataParallelCase"/>).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class DataParallelTests
{
    private const double Tolerance = 1e-5;

    /// <summary>
    /// One process, <paramref name="microBatches"/> micro-batches per step; asserts its step count. The
    /// head is the case's for <paramref name="shardedCase"/>; <paramref name="shard"/> shards its one rank.
    /// </summary>
    private static Dictionary<string, float[]> OneProcess(int microBatches, bool shardedCase = false, bool shard = false)
    {
        var ml = new MLContext(seed: 1);
        var options = DataParallelCase.Options(DistributedMode.SingleProcess, microBatches, shardedCase);
        options.ShardClassWeights = shard;
        int steps = 0;
        options.Progress = new ProgressCallback(_ => steps++);
        var model = SyntheticImages.Pipeline(ml, options).Fit(DataParallelCase.Data(ml));
        Assert.Equal(DataParallelCase.Epochs * 10 / microBatches, steps);
        return DataParallelCase.Parameters(model);
    }

    private static Dictionary<string, float[]> Saved(string folder)
    {
        var ml = new MLContext();
        return DataParallelCase.Parameters(ml.Model.Load(Path.Combine(folder, "model.zip"), out _));
    }

    private static double LargestDifference(Dictionary<string, float[]> a, Dictionary<string, float[]> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Max(p => p.Value.Zip(b[p.Key], (x, y) => Math.Abs((double)x - y)).Max());
    }

    private static string NewFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "faceloss-mpi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    [MpiFact]
    public void TwoRanksEndWithTheParametersOfOneProcessAccumulatingTheSameTwoMicroBatches()
    {
        string folder = NewFolder();
        string output = MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "false", $"{DataParallelCase.Epochs}");

        var ranks = Saved(folder);
        var accumulated = OneProcess(microBatches: 2);
        double difference = LargestDifference(accumulated, ranks);
        Assert.True(difference <= Tolerance, $"The 2-rank network differs from the accumulating process by up to {difference:G3} (tolerance {Tolerance}).");
        // The comparison can tell: one process stepping on every batch of 32 ends elsewhere.
        Assert.True(LargestDifference(OneProcess(microBatches: 1), ranks) > 1e-3, "Stepping on every batch gave the same network: the test cannot tell.");
        // Rank 0 alone reports progress (20 steps) and logs the epochs.
        Assert.Contains("rank 0 of 2: 20 progress reports, 4 epoch log lines", output);
        Assert.Contains("rank 1 of 2: 0 progress reports, 0 epoch log lines", output);
        Assert.Single(Directory.GetFiles(folder));
    }

    [MpiFact]
    public void TwoRanksResumeFromRankZerosCheckpointAsIfUninterrupted()
    {
        string folder = NewFolder(), checkpoints = Path.Combine(folder, "checkpoints");
        MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "false", "2", checkpoints);
        // Rank 0 alone writes; on resuming it reads the file and sends it to rank 1.
        Assert.Equal(new[] { "checkpoint.bin" }, Directory.GetFiles(checkpoints).Select(Path.GetFileName));
        Assert.Empty(Directory.GetDirectories(checkpoints));

        string output = MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "false", $"{DataParallelCase.Epochs}", checkpoints);
        Assert.Contains("rank 0 of 2: 10 progress reports", output); // resumed after epoch 2 of 4
        double difference = LargestDifference(OneProcess(microBatches: 2), Saved(folder));
        Assert.True(difference <= Tolerance, $"The resumed 2-rank network differs from the uninterrupted process by up to {difference:G3} (tolerance {Tolerance}).");
    }

    [MpiFact]
    public void RankZeroValidatesAndEveryRankStopsEarlyAtTheSameEpoch()
    {
        string folder = NewFolder();
        string output = MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "false", "12", "validate");
        var lines = output.Split('\n').Where(l => l.StartsWith("rank ", StringComparison.Ordinal)).OrderBy(l => l).ToList();
        Assert.Equal(2, lines.Count);
        string Epochs(string line) => line.Split(", ")[2];
        Assert.Equal(Epochs(lines[0]), Epochs(lines[1])); // both ranks stopped together
        Assert.NotEqual("12 epochs", Epochs(lines[0]));     // early stopping ended the run
        Assert.DoesNotContain("validation none", lines[0]);  // rank 0's figures, shared with rank 1
        Assert.Equal(lines[0].Split("validation ")[1], lines[1].Split("validation ")[1]);
    }

    [MpiFact]
    public void TwoRanksWithShardedClassWeightsResumeAndEndWithTheParametersOfOneProcess()
    {
        string folder = NewFolder(), checkpoints = Path.Combine(folder, "checkpoints");
        MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "true", "2", checkpoints);
        Assert.True(File.Exists(Path.Combine(checkpoints, "checkpoint.bin")), "Rank 0 wrote no checkpoint.");
        Assert.True(File.Exists(Path.Combine(checkpoints, "rank-1", "checkpoint.bin")), "Rank 1 wrote no checkpoint of its class-weight shard.");

        string output = MpiJob.Run(DataParallelCase.Ranks, "mpi-data-parallel", folder, "true", $"{DataParallelCase.Epochs}", checkpoints);
        Assert.Contains("rank 0 of 2: 10 progress reports", output); // resumed after epoch 2 of 4

        var sharded = Saved(folder);
        double difference = LargestDifference(OneProcess(microBatches: 2, shardedCase: true), sharded);
        Assert.True(LargestDifference(OneProcess(microBatches: 1, shardedCase: true), sharded) > 1e-3, "Stepping on every batch gave the same network: the test cannot tell.");
        Assert.True(difference <= Tolerance, $"The sharded 2-rank network, resumed, differs from one process by up to {difference:G3} (tolerance {Tolerance}).");

        // The checkpoint of 2 ranks is refused by one process, naming what differs.
        var ml = new MLContext(seed: 1);
        var options = DataParallelCase.Options(DistributedMode.SingleProcess, microBatches: 1, shard: true, epochs: 5, checkpoints: checkpoints);
        options.ShardClassWeights = false;
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(ml, options).Fit(DataParallelCase.Data(ml)));
        Assert.Contains("belongs to another training run: ranks: this run none, the checkpoint 2, 1 micro-batches each per step, class weights sharded.", error.Message);
    }

    [MpiFact]
    public void RanksWithDifferentDataStopWithAClearMessage()
    {
        var (exitCode, output, errors) = MpiJob.RunTool(DataParallelCase.Ranks, "mpi-data-parallel", NewFolder(), "false", "1", "mismatch");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("The ranks' training data differ", output + errors);
        Assert.Contains("every rank must read the same rows in the same order", output + errors);
        Assert.DoesNotContain("progress reports", output); // no rank trained
    }

    [Fact]
    public void OneProcessWithShardedClassWeightsTrainsAsWithout()
    {
        double difference = LargestDifference(OneProcess(microBatches: 2, shardedCase: true), OneProcess(microBatches: 2, shardedCase: true, shard: true));
        Assert.True(difference <= Tolerance, $"Sharding the class weights over one rank changed the network by up to {difference:G3}.");
    }

    [Fact]
    public void ShardedTrainingWithMicroBatchesLeaksNoTensorsPerStep()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Load(ml, identities: 6, perIdentity: 10);
        FaceEmbeddingTrainer.Options Options(int epochs)
        {
            var options = SyntheticImages.TinyOptions(epochs: epochs);
            (options.ShardClassWeights, options.GradientAccumulationSteps) = (true, 2);
            return options;
        }
        var statistics = global::TorchSharp.DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;
        using (SyntheticImages.Pipeline(ml, Options(1)).Fit(data).LastTransformer) { }
        long afterShort = statistics.ThreadTotalLiveCount;
        using (SyntheticImages.Pipeline(ml, Options(8)).Fit(data).LastTransformer) { }
        long afterLong = statistics.ThreadTotalLiveCount;
        Assert.Equal(afterShort - before, afterLong - afterShort);
    }

    [Fact]
    public void StreamedRowsTrainInStepsOfTwoMicroBatches()
    {
        var ml = new MLContext(seed: 1);
        var options = DataParallelCase.Options(DistributedMode.SingleProcess, microBatches: 2, shard: false, epochs: 1);
        options.InMemory = false;
        var steps = new List<TrainingProgress>();
        options.Progress = new ProgressCallback(steps.Add);
        var model = SyntheticImages.Pipeline(ml, options).Fit(DataParallelCase.Data(ml));
        Assert.Equal(5, steps.Count); // 320 rows streamed in 10 batches of 32: 5 steps
        Assert.Equal(5, steps[^1].TotalSteps);
        Assert.All(steps, p => Assert.True(double.IsFinite(p.Loss)));
        Assert.All(DataParallelCase.Parameters(model).Values.SelectMany(v => v), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void TooFewBatchesForOneStepAreRefusedWithTheCure()
    {
        var ml = new MLContext(seed: 1);
        var options = DataParallelCase.Options(DistributedMode.SingleProcess, microBatches: 11, shard: false);
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(ml, options).Fit(DataParallelCase.Data(ml)));
        Assert.Contains("An epoch has 10 batches, fewer than one step of 1 ranks x 11 micro-batches needs", error.Message);
    }
}
