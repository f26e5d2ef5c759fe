using System.Globalization;

namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>
/// Where this process stands in a job that <c>mpirun</c> launched, read from Open MPI's environment
/// without initialising MPI. Every rank's <c>Fit</c> returns a transformer; only the main process
/// (rank 0) should save it, as only it writes checkpoints, logs and progress:
/// <c>if (DistributedTraining.IsMainProcess) mlContext.Model.Save(model, schema, path);</c>
/// </summary>
public static class DistributedTraining
{
    /// <summary>This process's rank in the <c>mpirun</c> job (<c>OMPI_COMM_WORLD_RANK</c>); 0 when not launched by mpirun.</summary>
    public static int Rank => Read("OMPI_COMM_WORLD_RANK", 0);

    /// <summary>The number of processes of the <c>mpirun</c> job (<c>OMPI_COMM_WORLD_SIZE</c>); 1 when not launched by mpirun.</summary>
    public static int RankCount => Read("OMPI_COMM_WORLD_SIZE", 1);

    /// <summary>Whether this process is rank 0, the one that writes models, checkpoints and logs (true when not launched by mpirun).</summary>
    public static bool IsMainProcess => Rank == 0;

    /// <summary>The communicator a training with <paramref name="mode"/> uses.</summary>
    internal static ICommunicator Communicator(DistributedMode mode) => mode switch
    {
        DistributedMode.Mpi => MpiCommunicator.World,
        DistributedMode.Auto when RankCount > 1 => MpiCommunicator.World,
        _ => SingleProcessCommunicator.Instance,
    };

    private static int Read(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
