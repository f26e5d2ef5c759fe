using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Loads LibTorch with a helpful message, picks the device, sets threads, and serializes what uses torch's global random state.</summary>
internal static class TorchRuntime
{
    private static readonly object LoadLock = new();
    private static bool _loaded;

    /// <summary>
    /// Held while a network is initialised and trained: torch's global generator drives weight
    /// initialisation, dropout and class sampling, so two trainings at once would make each other irreproducible.
    /// </summary>
    public static readonly object TrainingLock = new();

    /// <summary>Makes sure LibTorch is loaded; throws an exception that says how to fix a missing or unloadable backend.</summary>
    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (LoadLock)
        {
            if (_loaded) return;
            try
            {
                using var probe = zeros(1);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                throw new InvalidOperationException(
                    "LibTorch could not be loaded. The application must reference a LibTorch backend package: " +
                    "'libtorch-cpu-linux-x64' (Linux x64) or 'TorchSharp-cpu' (any platform). On Debian 12 and other systems " +
                    "whose libstdc++ lacks GLIBCXX_3.4.32, build with this repository's build/TorchSharpLoaderFix.targets imported " +
                    "(see README, 'Packages'). Inner error: " + e.Message, e);
            }
            _loaded = true;
        }
    }

    /// <summary>
    /// The device ML.NET's context asks for: CUDA device <paramref name="gpuDeviceId"/> where it is
    /// set and a CUDA backend is present; the CPU where it is not set, or, with
    /// <paramref name="fallbackToCpu"/>, where CUDA is missing.
    /// </summary>
    public static Device ChooseDevice(int? gpuDeviceId, bool fallbackToCpu, Action<string> log)
    {
        if (gpuDeviceId is not int id) return CPU;
        if (cuda.is_available() && id < cuda.device_count()) return new Device(DeviceType.CUDA, id);
        string problem = cuda.is_available() ? $"CUDA device {id} does not exist ({cuda.device_count()} found)" : "no CUDA backend is available";
        if (fallbackToCpu)
        {
            log($"MLContext.GpuDeviceId is {id} but {problem}; training on the CPU (FallbackToCpu).");
            return CPU;
        }
        throw new InvalidOperationException($"MLContext.GpuDeviceId is {id} but {problem}. Reference a CUDA LibTorch package (for example libtorch-cuda-12.8-linux-x64), or set MLContext.FallbackToCpu = true.");
    }

    /// <summary>Sets torch's CPU threads until the result is disposed; null changes nothing.</summary>
    public static IDisposable UseThreads(int? threads)
    {
        if (threads is not int count) return new Restore(() => { });
        int previous = get_num_threads();
        set_num_threads(count);
        return new Restore(() => set_num_threads(previous));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
