namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>How the elements of a reduction combine.</summary>
internal enum ReduceOperation
{
    /// <summary>The element-wise sum over ranks.</summary>
    Sum,

    /// <summary>The element-wise maximum over ranks.</summary>
    Max,
}

/// <summary>
/// The few collective operations that data-parallel training and sharded class weights need, over
/// the ranks (processes) of one training job. Every rank must make the same calls in the same order
/// with the same element counts (except where a call says otherwise), as in MPI.
/// <see cref="SingleProcessCommunicator"/> is the job of one process; <see cref="MpiCommunicator"/>
/// runs over Open MPI.
/// </summary>
internal interface ICommunicator
{
    /// <summary>This process's rank, from 0 to <see cref="Size"/> - 1; rank 0 writes models, checkpoints and logs.</summary>
    int Rank { get; }

    /// <summary>The number of ranks N.</summary>
    int Size { get; }

    /// <summary>Replaces every element with its reduction over the ranks, in place.</summary>
    void AllReduce(Span<float> values, ReduceOperation operation);

    /// <summary>Replaces every element with its reduction over the ranks, in place.</summary>
    void AllReduce(Span<double> values, ReduceOperation operation);

    /// <summary>
    /// Concatenates every rank's <paramref name="mine"/> in rank order into <paramref name="all"/>;
    /// <paramref name="counts"/> gives each rank's element count (ranks may differ).
    /// </summary>
    void AllGather(ReadOnlySpan<float> mine, Span<float> all, ReadOnlySpan<int> counts);

    /// <summary>Concatenates every rank's <paramref name="mine"/> in rank order; <paramref name="counts"/> as for floats.</summary>
    void AllGather(ReadOnlySpan<long> mine, Span<long> all, ReadOnlySpan<int> counts);

    /// <summary>Gives every rank the bytes of rank <paramref name="root"/>.</summary>
    void Broadcast(Span<byte> values, int root);
}
