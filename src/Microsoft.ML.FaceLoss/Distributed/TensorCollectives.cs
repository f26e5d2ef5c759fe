using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>
/// The collectives on tensors: each goes through host memory (a tensor on a GPU is copied to the CPU
/// and back), which is what CUDA-aware MPI or NCCL would spare.
/// </summary>
internal static class TensorCollectives
{
    /// <summary>Replaces <paramref name="tensor"/> (float32, contiguous) with its reduction over the ranks, in place.</summary>
    public static void AllReduce(this ICommunicator communicator, Tensor tensor, ReduceOperation operation)
    {
        if (communicator.Size == 1) return;
        var values = Read<float>(tensor);
        communicator.AllReduce(values, operation);
        Write(tensor, values);
    }

    /// <summary>
    /// Averages the gradients of <paramref name="parameters"/> over the ranks, in place, in one reduction
    /// through <paramref name="buffer"/> (grown as needed and kept for the next step). Parameters without
    /// a gradient are left out; every rank must have the same ones.
    /// </summary>
    public static void AverageGradients(this ICommunicator communicator, IEnumerable<Parameter> parameters, ref float[]? buffer)
    {
        if (communicator.Size == 1) return;
        var gradients = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        long total = gradients.Sum(g => g.numel());
        if (total > Array.MaxLength) throw new NotSupportedException($"{total} gradient values do not fit one buffer.");
        if (buffer is null || buffer.Length < total) buffer = new float[total];
        int offset = 0;
        foreach (var gradient in gradients)
        {
            int count = (int)gradient.numel();
            Read(gradient, buffer.AsSpan(offset, count));
            offset += count;
        }
        communicator.AllReduce(buffer.AsSpan(0, offset), ReduceOperation.Sum);
        offset = 0;
        using var noGrad = no_grad();
        foreach (var gradient in gradients)
        {
            int count = (int)gradient.numel();
            Write(gradient, buffer.AsSpan(offset, count));
            gradient.div_(communicator.Size);
            offset += count;
        }
    }

    /// <summary>Rank 0's <paramref name="value"/>, on every rank.</summary>
    public static int SameOnEveryRank(this ICommunicator communicator, int value)
    {
        if (communicator.Size == 1) return value;
        var bytes = BitConverter.GetBytes(value);
        communicator.Broadcast(bytes, root: 0);
        return BitConverter.ToInt32(bytes);
    }

    /// <summary>Whether every rank's <paramref name="text"/> equals rank 0's (compared by SHA-256).</summary>
    public static bool SameTextOnEveryRank(this ICommunicator communicator, string text)
    {
        if (communicator.Size == 1) return true;
        var mine = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        var root = (byte[])mine.Clone();
        communicator.Broadcast(root, root: 0);
        var differs = new[] { mine.AsSpan().SequenceEqual(root) ? 0.0 : 1.0 };
        communicator.AllReduce(differs, ReduceOperation.Max);
        return differs[0] == 0;
    }

    /// <summary>Gives every rank rank 0's values of <paramref name="tensors"/> (parameters and buffers: float32, float64 or int64).</summary>
    public static void BroadcastFromRoot(this ICommunicator communicator, IEnumerable<Tensor> tensors)
    {
        if (communicator.Size == 1) return;
        using var noGrad = no_grad();
        foreach (var tensor in tensors)
        {
            switch (tensor.dtype)
            {
                case ScalarType.Float32: Broadcast<float>(communicator, tensor); break;
                case ScalarType.Float64: Broadcast<double>(communicator, tensor); break;
                case ScalarType.Int64: Broadcast<long>(communicator, tensor); break;
                default: throw new NotSupportedException($"Broadcasting a {tensor.dtype} tensor is not supported.");
            }
        }
    }

    /// <summary>
    /// Every rank's rows of <paramref name="rows"/> (float32, n x D, n may differ between ranks) in rank
    /// order, as a new tensor on the same device without gradient; <c>Offset</c> is this rank's first row.
    /// </summary>
    public static (Tensor All, long Offset) AllGatherRows(this ICommunicator communicator, Tensor rows)
    {
        if (communicator.Size == 1) return (rows.detach().clone(), 0);
        var counts = RowCounts(communicator, rows.shape[0]);
        long width = rows.shape[1];
        var all = new float[counts.Sum(c => (long)c) * width];
        communicator.AllGather(Read<float>(rows), all, counts.Select(c => (int)(c * width)).ToArray());
        long offset = counts.Take(communicator.Rank).Sum(c => (long)c);
        return (tensor(all, new[] { all.LongLength / width, width }).to(rows.device), offset);
    }

    /// <summary>Every rank's values of the int64 vector <paramref name="values"/> in rank order, as a new tensor on the same device.</summary>
    public static Tensor AllGatherLabels(this ICommunicator communicator, Tensor values)
    {
        if (communicator.Size == 1) return values.clone();
        var counts = RowCounts(communicator, values.shape[0]);
        var all = new long[counts.Sum(c => (long)c)];
        communicator.AllGather(Read<long>(values), all, counts);
        return tensor(all).to(values.device);
    }

    private static int[] RowCounts(ICommunicator communicator, long mine)
    {
        var counts = new long[communicator.Size];
        communicator.AllGather(new[] { mine }, counts, Enumerable.Repeat(1, communicator.Size).ToArray());
        return counts.Select(c => (int)c).ToArray();
    }

    private static void Broadcast<T>(ICommunicator communicator, Tensor tensor) where T : unmanaged
    {
        var values = Read<T>(tensor);
        communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), root: 0);
        if (communicator.Rank != 0) Write(tensor, values);
    }

    private static T[] Read<T>(Tensor tensor) where T : unmanaged
    {
        var values = new T[tensor.numel()];
        Read(tensor, values.AsSpan());
        return values;
    }

    private static void Read<T>(Tensor tensor, Span<T> values) where T : unmanaged
    {
        var host = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        try
        {
            using var accessor = host.data<T>();
            accessor.CopyTo(values, 0, 0);
        }
        finally
        {
            if (!ReferenceEquals(host, tensor)) host.Dispose();
        }
    }

    private static void Write<T>(Tensor tensor, ReadOnlySpan<T> values) where T : unmanaged
    {
        if (tensor.device_type == DeviceType.CPU)
        {
            using var accessor = tensor.data<T>();
            accessor.CopyFrom(values, 0, 0);
            return;
        }
        using var host = tensor.cpu();
        using (var accessor = host.data<T>()) accessor.CopyFrom(values, 0, 0);
        using var noGrad = no_grad();
        tensor.copy_(host);
    }
}
