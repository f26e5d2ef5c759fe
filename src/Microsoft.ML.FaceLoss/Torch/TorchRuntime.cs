using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Torch;

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

    /// <summary>The key of the assembly metadata with which the build targets mark a GC-safe TorchSharp.dll.</summary>
    public const string GcSafeMarkerKey = "Microsoft.ML.FaceLoss.GcSafe";

    /// <summary>
    /// Whether this process runs the TorchSharp.dll that the library's build targets wove GC-safe
    /// (see README, "Garbage collection and TorchSharp"). Without it a garbage collection during a
    /// TorchSharp call may free a Scalar or Tensor in use and abort the process.
    /// </summary>
    public static bool IsGcSafe { get; } = typeof(torch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Any(a => a.Key == GcSafeMarkerKey);

    /// <summary>What to tell the user when <see cref="IsGcSafe"/> is false.</summary>
    public const string NotGcSafeWarning =
        "TorchSharp.dll in this application is not the GC-safe copy that Microsoft.ML.FaceLoss's build targets make: a garbage " +
        "collection during a TorchSharp call can free a Scalar or Tensor still in use and abort the process. Reference the " +
        "Microsoft.ML.FaceLoss package (its buildTransitive targets weave TorchSharp.dll at build and publish) and do not set " +
        "FaceLossSkipGcSafeTorchSharp.";

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
                    "whose libstdc++ lacks GLIBCXX_3.4.32, the Microsoft.ML.FaceLoss package's build targets patch the library after " +
                    "every build and publish; check that FaceLossSkipLoaderFix is not set (see README, 'Packages'). Inner error: " + e.Message, e);
            }
            _loaded = true;
        }
    }

    /// <summary>
    /// Asks LibTorch's MKL for conditional numerical reproducibility (<c>MKL_CBWR=AUTO</c>) unless the
    /// application chose a mode itself; runs when this assembly loads, before any head or network of
    /// it can make MKL read its settings (MKL reads them once, at its first use). Without it MKL picks code paths by the memory alignment of
    /// its operands, so the same matrix product gives results that differ in the last bits from call
    /// to call, and a saved and loaded model, or a second run with the same seed, does not repeat its
    /// embeddings exactly. AUTO keeps the fastest path for this processor; the cost was not measurable
    /// (the speed benchmark within its run-to-run noise).
    /// </summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "MKL reads MKL_CBWR once, at its first use: only an initializer that runs as this assembly loads comes early enough.")]
    internal static void RequestReproducibleMkl()
    {
        const string name = "MKL_CBWR";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) return;
        try
        {
            if (OperatingSystem.IsWindows())
                Environment.SetEnvironmentVariable(name, "AUTO"); // the process environment MKL reads
            else if (OperatingSystem.IsLinux())
                _ = SetEnvLinux(name, "AUTO", 0); // .NET keeps its own copy of the environment on Unix; MKL reads libc's
            else if (OperatingSystem.IsMacOS())
                _ = SetEnvMac(name, "AUTO", 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libc of another name (musl): results stay correct, only not bit-reproducible from call to call.
        }
    }

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnvLinux([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvMac([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

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
