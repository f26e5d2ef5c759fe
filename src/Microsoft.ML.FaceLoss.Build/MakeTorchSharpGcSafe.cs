using System;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Microsoft.ML.FaceLoss.Build;

/// <summary>
/// MSBuild task: weaves a copy of TorchSharp.dll so that garbage collection cannot free a Scalar or a
/// Tensor during a native call (see <see cref="KeepAliveWeaver"/>). Runs from the
/// Microsoft.ML.FaceLoss build targets before the copy-local files are resolved, so that build,
/// publish and the deps file all take the woven copy.
/// </summary>
public sealed class MakeTorchSharpGcSafe : Task
{
    /// <summary>TorchSharp.dll as the package restores it.</summary>
    [Required] public string Source { get; set; } = "";

    /// <summary>Where to write the woven copy (under obj/).</summary>
    [Required] public string Destination { get; set; } = "";

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            var result = KeepAliveWeaver.Weave(Source, Destination);
            Log.LogMessage(MessageImportance.Normal, $"GC-safe TorchSharp: {Destination} ({result}).");
            return true;
        }
        catch (Exception e)
        {
            Log.LogError($"Could not make TorchSharp GC-safe ({Source} -> {Destination}): {e.Message}. " +
                         "Set the property FaceLossSkipGcSafeTorchSharp to true to build with TorchSharp as shipped " +
                         "(a garbage collection during a TorchSharp call may then abort the process).");
            return false;
        }
    }
}
