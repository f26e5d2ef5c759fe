using static Microsoft.ML.FaceLoss.Distributed.MpiNative;

namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>
/// The ranks of an Open MPI job (<c>mpirun -np N</c>, one machine or a cluster with <c>--hostfile</c>):
/// MPI_COMM_WORLD. MPI is initialised on first use (thread level serialized: one call at a time,
/// from any thread) and finalised when the process exits. Tensors travel through host memory (no
/// CUDA-aware MPI), in chunks of at most 4M elements, which is faster than one big call here.
/// </summary>
internal sealed unsafe class MpiCommunicator : ICommunicator
{
    private const int Chunk = 4 << 20;
    private static readonly Lazy<MpiCommunicator> LazyWorld = new(() => new MpiCommunicator());
    private readonly Handles _h;

    /// <summary>MPI_COMM_WORLD, initialising MPI on first use.</summary>
    /// <exception cref="InvalidOperationException">Open MPI's library could not be loaded or initialised; the message says how to install it.</exception>
    public static MpiCommunicator World => LazyWorld.Value;

    private MpiCommunicator()
    {
        try
        {
            _h = Handle;
            Check(MPI_Initialized(out int initialized), "MPI_Initialized");
            if (initialized == 0)
            {
                Check(MPI_Init_thread(IntPtr.Zero, IntPtr.Zero, ThreadSerialized, out _), "MPI_Init_thread");
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    if (MPI_Finalized(out int finalized) == 0 && finalized == 0) MPI_Finalize();
                };
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new InvalidOperationException(
                $"Distributed training needs Open MPI's library {Library}, which could not be loaded ({e.Message}). On Debian or Ubuntu: " +
                "apt-get install openmpi-bin libopenmpi-dev; then launch the application with mpirun -np N.", e);
        }
        Check(MPI_Comm_rank(_h.World, out int rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(_h.World, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    public int Rank { get; }

    public int Size { get; }

    public void AllReduce(Span<float> values, ReduceOperation operation) => Reduce(values, _h.Float, operation);

    public void AllReduce(Span<double> values, ReduceOperation operation) => Reduce(values, _h.Double, operation);

    private void Reduce<T>(Span<T> values, IntPtr type, ReduceOperation operation) where T : unmanaged
    {
        for (int start = 0; start < values.Length; start += Chunk)
        {
            var part = values.Slice(start, Math.Min(Chunk, values.Length - start));
            fixed (T* p = part)
                Check(MPI_Allreduce(InPlace, p, part.Length, type, Operation(operation), _h.World), "MPI_Allreduce");
        }
    }

    public void AllGather(ReadOnlySpan<float> mine, Span<float> all, ReadOnlySpan<int> counts)
    {
        fixed (float* send = mine)
        fixed (float* receive = all)
            Gather(send, mine.Length, receive, all.Length, counts, _h.Float);
    }

    public void AllGather(ReadOnlySpan<long> mine, Span<long> all, ReadOnlySpan<int> counts)
    {
        fixed (long* send = mine)
        fixed (long* receive = all)
            Gather(send, mine.Length, receive, all.Length, counts, _h.Int64);
    }

    private void Gather(void* send, int sendCount, void* receive, int receiveLength, ReadOnlySpan<int> counts, IntPtr type)
    {
        if (counts.Length != Size) throw new ArgumentException($"One count per rank ({Size}) is needed; got {counts.Length}.", nameof(counts));
        var displacements = new int[Size];
        for (int r = 1; r < Size; r++) displacements[r] = displacements[r - 1] + counts[r - 1];
        if (displacements[^1] + counts[^1] != receiveLength || counts[Rank] != sendCount)
            throw new ArgumentException("The gather's counts do not match the buffers.", nameof(counts));
        fixed (int* c = counts)
        fixed (int* d = displacements)
            Check(MPI_Allgatherv(send, sendCount, type, receive, c, d, type, _h.World), "MPI_Allgatherv");
    }

    public void Broadcast(Span<byte> values, int root)
    {
        for (int start = 0; start < values.Length; start += Chunk)
        {
            var part = values.Slice(start, Math.Min(Chunk, values.Length - start));
            fixed (byte* p = part)
                Check(MPI_Bcast(p, part.Length, _h.Byte, root, _h.World), "MPI_Bcast");
        }
    }

    private IntPtr Operation(ReduceOperation operation) => operation == ReduceOperation.Max ? _h.Max : _h.Sum;

    private static void Check(int code, string call)
    {
        // Open MPI's default error handler aborts the job before returning an error; this is the backstop.
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}.");
    }
}
