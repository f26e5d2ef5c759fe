using System.Runtime.InteropServices;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>
/// Where a figure was measured. LibTorch's CPU kernels take different vector paths on different
/// processors, so training results agree to the last digit only on the same processor model and
/// thread count: every JSON line says which.
/// </summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        return $"{cpu}, {Environment.ProcessorCount} logical CPUs, torch threads {TorchSharp.torch.get_num_threads()}, {RuntimeInformation.OSDescription}";
    }
}
