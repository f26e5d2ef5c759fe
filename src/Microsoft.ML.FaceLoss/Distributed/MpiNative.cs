using System.Runtime.InteropServices;

namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>
/// The calls of Open MPI's C library (<c>libmpi.so.40</c>, Debian's <c>libopenmpi-dev</c>) that
/// <see cref="MpiCommunicator"/> uses. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...)
/// are the addresses of exported globals, read once with <see cref="NativeLibrary.GetExport"/>.
/// (MPI.NET is built for Microsoft MPI, whose handles are integers, and crashes on Open MPI.)
/// </summary>
internal static unsafe partial class MpiNative
{
    public const string Library = "libmpi.so.40";

    /// <summary>MPI_THREAD_SERIALIZED: calls from any thread, one at a time.</summary>
    public const int ThreadSerialized = 2;

    /// <summary>MPI_IN_PLACE.</summary>
    public static readonly void* InPlace = (void*)1;

    private static readonly Lazy<Handles> LazyHandles = new(() =>
    {
        var library = NativeLibrary.Load(Library);
        IntPtr Export(string name) => NativeLibrary.GetExport(library, name);
        return new Handles(Export("ompi_mpi_comm_world"), Export("ompi_mpi_float"), Export("ompi_mpi_double"),
            Export("ompi_mpi_int64_t"), Export("ompi_mpi_byte"), Export("ompi_mpi_op_sum"), Export("ompi_mpi_op_max"));
    });

    /// <summary>The handles, read on first use (loading the library).</summary>
    public static Handles Handle => LazyHandles.Value;

    /// <summary>Open MPI's handles of the communicator, the element types and the operations.</summary>
    public sealed record Handles(IntPtr World, IntPtr Float, IntPtr Double, IntPtr Int64, IntPtr Byte, IntPtr Sum, IntPtr Max);

    [LibraryImport(Library)]
    public static partial int MPI_Initialized(out int flag);

    [LibraryImport(Library)]
    public static partial int MPI_Finalized(out int flag);

    [LibraryImport(Library)]
    public static partial int MPI_Init_thread(IntPtr argc, IntPtr argv, int required, out int provided);

    [LibraryImport(Library)]
    public static partial int MPI_Finalize();

    [LibraryImport(Library)]
    public static partial int MPI_Comm_rank(IntPtr communicator, out int rank);

    [LibraryImport(Library)]
    public static partial int MPI_Comm_size(IntPtr communicator, out int size);

    [LibraryImport(Library)]
    public static partial int MPI_Allreduce(void* send, void* receive, int count, IntPtr type, IntPtr operation, IntPtr communicator);

    [LibraryImport(Library)]
    public static partial int MPI_Allgatherv(void* send, int sendCount, IntPtr sendType, void* receive, int* receiveCounts, int* displacements,
        IntPtr receiveType, IntPtr communicator);

    [LibraryImport(Library)]
    public static partial int MPI_Bcast(void* buffer, int count, IntPtr type, int root, IntPtr communicator);
}
