namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>The job of one process: reductions and broadcasts leave the values as they are; a gather copies.</summary>
internal sealed class SingleProcessCommunicator : ICommunicator
{
    /// <summary>The one instance.</summary>
    public static SingleProcessCommunicator Instance { get; } = new();

    private SingleProcessCommunicator()
    {
    }

    public int Rank => 0;

    public int Size => 1;

    public void AllReduce(Span<float> values, ReduceOperation operation)
    {
    }

    public void AllReduce(Span<double> values, ReduceOperation operation)
    {
    }

    public void AllGather(ReadOnlySpan<float> mine, Span<float> all, ReadOnlySpan<int> counts) => mine.CopyTo(all);

    public void AllGather(ReadOnlySpan<long> mine, Span<long> all, ReadOnlySpan<int> counts) => mine.CopyTo(all);

    public void Broadcast(Span<byte> values, int root)
    {
    }
}
