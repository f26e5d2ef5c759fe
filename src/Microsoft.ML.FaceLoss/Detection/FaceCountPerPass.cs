using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// Counts the rows of one cursor and those without a face, and reports both when the cursor is
/// disposed (the end of a pass), so that DetectFaces and AlignFaces log one line a pass.
/// </summary>
internal sealed class FaceCountPerPass(Action<long, long> report) : IDisposable
{
    private long _rows, _withoutFace;

    /// <summary>Counts one row.</summary>
    public void Count(bool withoutFace)
    {
        _rows++;
        if (withoutFace) _withoutFace++;
    }

    /// <summary>Reports the counts.</summary>
    public void Dispose() => report(_rows, _withoutFace);

    /// <summary>Writes a pass's counts to <paramref name="host"/>'s log: a warning when some rows had no face.</summary>
    public static void Log(IHost? host, string transform, long rows, long withoutFace, string warning, string info)
    {
        if (host is null || rows == 0) return;
        using var channel = host.Start(transform);
        if (withoutFace > 0) channel.Warning(MessageSensitivity.None, warning);
        else channel.Info(MessageSensitivity.None, info);
    }
}
