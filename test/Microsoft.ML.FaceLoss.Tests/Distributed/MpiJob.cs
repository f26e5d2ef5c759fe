using System.Diagnostics;
using Microsoft.ML.FaceLoss.Testing;

namespace Microsoft.ML.FaceLoss.Tests.Distributed;

/// <summary>
/// Runs this test assembly's command-line tool (see <see cref="Program"/>) as the ranks of an Open MPI
/// job: <c>mpirun --oversubscribe -np N dotnet exec Microsoft.ML.FaceLoss.Tests.dll ...</c>.
/// </summary>
internal static class MpiJob
{
    /// <summary>mpirun's full path, or null where it is not on the PATH.</summary>
    public static string? Mpirun => MpiLauncher.Mpirun;

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
        var start = MpiLauncher.StartInfo(ranks, dll, arguments);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(300_000))
        {
            // A rank waiting for another forever (a collective one rank never reached) must fail the test, not hang the run.
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The {ranks}-rank MPI job did not end within 5 minutes.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
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
