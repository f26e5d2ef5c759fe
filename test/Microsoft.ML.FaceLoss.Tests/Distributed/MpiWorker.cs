using System.Text.Json;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>What each rank of the tests' MPI jobs runs (the commands <c>mpi-data-parallel</c> and <c>mpi-sharded-heads</c> of <see cref="Program"/>).</summary>
internal static class MpiWorker
{
    /// <summary>
    /// Trains <see cref="DataParallelCase"/> as one rank of the job; rank 0 saves the model to
    /// <paramref name="folder"/>/model.zip. Prints, per rank, the progress reports and epoch log lines it saw.
    /// </summary>
    /// <remarks>
    /// The plain case finds MPI as a user's application does (<see cref="DistributedMode.Auto"/> under
    /// mpirun); the sharded one asks for it (<see cref="DistributedMode.Mpi"/>). With
    /// <paramref name="validate"/> a quarter of the identities validate each epoch and training stops
    /// after an epoch without progress: every rank must stop at the same epoch. With <paramref name="mismatch"/>
    /// the ranks other than 0 read other rows.
    /// </remarks>
    public static void DataParallel(string folder, bool shard, int epochs, string? checkpoints, bool validate = false, bool mismatch = false)
    {
        var ml = new MLContext(seed: 1);
        int epochLines = 0;
        ml.Log += (_, e) => { if (e.Message.Contains("Epoch ", StringComparison.Ordinal) && e.Message.Contains(" loss ", StringComparison.Ordinal)) Interlocked.Increment(ref epochLines); };
        var options = DataParallelCase.Options(shard ? DistributedMode.Mpi : DistributedMode.Auto, microBatches: 1, shard, epochs, checkpoints);
        if (validate) (options.ValidationIdentityFraction, options.EarlyStoppingPatience) = (0.25, 1);
        int reports = 0;
        options.Progress = new ProgressCallback(_ => reports++);
        var data = DataParallelCase.Data(ml, seed: mismatch && !DistributedTraining.IsMainProcess ? 8 : 7);
        var model = SyntheticImages.Pipeline(ml, options).Fit(data);
        if (DistributedTraining.IsMainProcess) ml.Model.Save(model, data.Schema, Path.Combine(folder, "model.zip"));
        var history = model.LastTransformer.TrainingHistory;
        Console.WriteLine($"rank {DistributedTraining.Rank} of {DistributedTraining.RankCount}: {reports} progress reports, {epochLines} epoch log lines, " +
            $"{history.Count} epochs, validation {string.Join(" ", history.Select(h => h.ValidationAccuracy?.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) ?? "none"))}");
    }

    /// <summary>
    /// Runs every shardable head of <see cref="ShardedHeadCase"/> sharded across the job's ranks and writes
    /// each rank's loss, the gradient of all embeddings (summed over ranks) and the gradient of its W rows.
    /// </summary>
    public static void ShardedHeads(string folder)
    {
        var communicator = MpiCommunicator.World;
        int rows = ShardedHeadCase.RowsPerRank * communicator.Size;
        var (embeddings, labels) = ShardedHeadCase.Inputs(rows);
        foreach (var options in ShardedHeadCase.Heads())
        {
            using var scope = NewDisposeScope();
            using var whole = ShardedHeadCase.WholeHead(options);
            var shard = ClassShard.Of(ShardedHeadCase.Classes, communicator.Rank, communicator.Size);
            using var part = ShardedHeadCase.ShardHead(options, whole, shard);
            // Each rank contributes its own rows, as in training; the gather puts them back in rank order.
            var mine = tensor(embeddings, new long[] { rows, ShardedHeadCase.EmbeddingSize }).narrow(0, (long)communicator.Rank * ShardedHeadCase.RowsPerRank, ShardedHeadCase.RowsPerRank).contiguous();
            var myLabels = tensor(labels).narrow(0, (long)communicator.Rank * ShardedHeadCase.RowsPerRank, ShardedHeadCase.RowsPerRank).contiguous();
            var (gathered, _) = communicator.AllGatherRows(mine);
            gathered.requires_grad_(true);
            var (surrogate, loss) = new ShardedClassifier(part, shard, communicator).Forward(gathered, communicator.AllGatherLabels(myLabels));
            surrogate.backward();
            var gradient = gathered.grad!.contiguous();
            communicator.AllReduce(gradient, ReduceOperation.Sum);
            var result = new ShardedHeadResult(options.HeadName, communicator.Rank, shard.First, shard.Count, loss,
                gradient.data<float>().ToArray(), part.Weight.grad!.data<float>().ToArray());
            File.WriteAllText(Path.Combine(folder, ShardedHeadCase.FileName(options, communicator.Rank)), JsonSerializer.Serialize(result));
        }
        Console.WriteLine($"rank {communicator.Rank} of {communicator.Size}: {ShardedHeadCase.Heads().Count} heads");
    }

}

/// <summary>One rank's figures of one sharded head.</summary>
internal sealed record ShardedHeadResult(string Head, int Rank, int First, int Count, double Loss, float[] EmbeddingGradient, float[] WeightGradient);
