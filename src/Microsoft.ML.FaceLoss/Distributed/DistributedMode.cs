namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>Whether a training runs in one process or as one rank of several (see README, "Training on several processes or machines").</summary>
public enum DistributedMode
{
    /// <summary>
    /// Open MPI when the process was launched by <c>mpirun</c> with more than one process
    /// (<c>OMPI_COMM_WORLD_SIZE</c> above 1), one process otherwise. The default.
    /// </summary>
    Auto,

    /// <summary>One process, whatever launched it.</summary>
    SingleProcess,

    /// <summary>Open MPI always (one rank when not launched by <c>mpirun</c>); fails with how to install it where <c>libmpi.so.40</c> is missing.</summary>
    Mpi,
}
