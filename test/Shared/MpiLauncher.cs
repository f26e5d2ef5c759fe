using System.Diagnostics;

namespace Microsoft.ML.FaceLoss.Testing;

/// <summary>Starts a .NET application as the ranks of an Open MPI job, as the tests and the <c>distributed</c> benchmark do.</summary>
internal static class MpiLauncher
{
    /// <summary>mpirun's full path, or null where it is not on the PATH.</summary>
    public static string? Mpirun { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "mpirun"))
        .FirstOrDefault(File.Exists);

    /// <summary>
    /// <c>mpirun --allow-run-as-root --oversubscribe -np N dotnet exec dll arguments</c> (root in containers and
    /// CI; more ranks than cores on small machines), output redirected, <c>TERM=dumb</c> (no terminal
    /// escapes in the ranks' output). With <paramref name="ranks"/> null: <c>dotnet exec</c> alone, one process.
    /// </summary>
    public static ProcessStartInfo StartInfo(int? ranks, string dll, IEnumerable<string> arguments)
    {
        if (ranks is not null && Mpirun is null)
            throw new InvalidOperationException("mpirun is not on the PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev).");
        var start = new ProcessStartInfo(ranks is null ? "dotnet" : Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true };
        var all = ranks is null ? new List<string>() : new List<string> { "--allow-run-as-root", "--oversubscribe", "-np", $"{ranks}", "dotnet" };
        all.AddRange(new[] { "exec", dll });
        all.AddRange(arguments);
        foreach (var argument in all) start.ArgumentList.Add(argument);
        start.Environment["TERM"] = "dumb";
        return start;
    }
}
