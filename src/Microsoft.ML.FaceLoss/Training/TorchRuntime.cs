using TorchSharp;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Loads LibTorch with a helpful message, and serializes what uses torch's global random state.</summary>
internal static class TorchRuntime
{
    private static readonly object LoadLock = new();
    private static bool _loaded;

    /// <summary>
    /// Held while a network is initialised and trained: torch's global generator drives weight
    /// initialisation and dropout, so two trainings at once would make each other irreproducible.
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
                using var probe = torch.zeros(1);
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
}
