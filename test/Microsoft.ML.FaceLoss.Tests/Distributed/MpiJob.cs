using System.Diagnostics;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>
/// Runs this test assembly's command-line tool (see <see cref="Program"/>) as the ranks of an Open MPI
/// job: <c>mpirun --oversubscribe -np N dotnet exec Microsoft.ML.FaceLoss.Tests.dll ...</c>.
/// </summary>
internal static class MpiJob
{
    /// <summary>mpirun's full path, or null where it is not on the PATH.</summary>
    public static string? Mpirun { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "mpirun"))
        .FirstOrDefault(File.Exists);

    /// <summary>Whether CI asked for the MPI tests to run (FACELOSS_REQUIRE_MPI=1): then a missing mpirun fails them instead of skipping.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("FACELOSS_REQUIRE_MPI") == "1";

    /// <summary>Runs the tool with <paramref name="arguments"/> as <paramref name="ranks"/> ranks; returns the output of all ranks.</summary>
    public static string Run(int ranks, params string[] arguments) => RunApplication(ranks, typeof(Program).Assembly.Location, arguments);

    /// <summary>Runs the application <paramref name="dll"/> with <paramref name="arguments"/> as <paramref name="ranks"/> ranks; returns the output of all ranks.</summary>
    public static string RunApplication(int ranks, string dll, params string[] arguments)
    {
        var (exitCode, output, errors) = Start(ranks, dll, arguments);
        Assert.True(exitCode == 0, $"The {ranks}-rank MPI job failed with exit code {exitCode}.\n{output}\n{errors}");
        return output;
    }

    /// <summary>Runs the tool as <paramref name="ranks"/> ranks; returns the exit code and everything the ranks wrote.</summary>
    public static (int ExitCode, string Output, string Errors) RunTool(int ranks, params string[] arguments)
        => Start(ranks, typeof(Program).Assembly.Location, arguments);

    private static (int ExitCode, string Output, string Errors) Start(int ranks, string dll, string[] arguments)
    {
        Assert.True(Mpirun is not null, "mpirun is not on the PATH (FACELOSS_REQUIRE_MPI=1): install Open MPI (apt-get install openmpi-bin libopenmpi-dev).");
        var start = new ProcessStartInfo(Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Root in containers and CI; more ranks than cores on small machines; no terminal escapes in the ranks' output.
        foreach (var argument in new[] { "--allow-run-as-root", "--oversubscribe", "-np", $"{ranks}", "dotnet", "exec", dll })
            start.ArgumentList.Add(argument);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["TERM"] = "dumb";
        start.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The {ranks}-rank MPI job did not end within 5 minutes. Output: {output}");
        }
        return (process.ExitCode, output, stderr.Result);
    }
}

/// <summary>A fact that needs mpirun: skipped, with the reason, where Open MPI is not installed (unless FACELOSS_REQUIRE_MPI=1, as in CI).</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiJob.Mpirun is null && !MpiJob.Required)
            Skip = "mpirun is not on the PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the multi-process tests; CI installs it.";
    }
}

/// <summary>A fact that needs mpirun and the ORL faces: skipped, with the reason, where either is absent (mpirun: unless FACELOSS_REQUIRE_MPI=1).</summary>
public sealed class MpiOrlFactAttribute : FactAttribute
{
    public MpiOrlFactAttribute()
    {
        if (MpiJob.Mpirun is null && !MpiJob.Required)
            Skip = "mpirun is not on the PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the multi-process tests; CI installs it.";
        else if (!Infrastructure.TestData.OrlAvailable)
            Skip = $"The ORL faces are not at '{Infrastructure.TestData.OrlRoot}'; set FACELOSS_DATASETS to the folder that holds orl/.";
    }
}
