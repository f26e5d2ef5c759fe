using System.Diagnostics;
using Microsoft.ML.FaceLoss.Build;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Torch;
using Microsoft.ML.FaceLoss.Training;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit.Abstractions;

namespace Microsoft.ML.FaceLoss.Tests.Training;

/// <summary>
/// TorchSharp frees Scalars and Tensors in finalizers; the build targets weave TorchSharp.dll so that
/// a garbage collection at any moment cannot free one during the native call that uses it.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class GcSafetyTests
{
    private readonly ITestOutputHelper _output;

    public GcSafetyTests(ITestOutputHelper output) => _output = output;

    private static string TorchSharpPath => typeof(global::TorchSharp.torch).Assembly.Location;

    [Fact]
    public void ThisProcessRunsTheWovenTorchSharp()
    {
        Assert.True(TorchRuntime.IsGcSafe, $"{TorchSharpPath} carries no '{TorchRuntime.GcSafeMarkerKey}' marker: the build targets did not weave it.");
        Assert.Equal(KeepAliveWeaver.MarkerKey, TorchRuntime.GcSafeMarkerKey);
    }

    [Fact]
    public void AScalarArgumentIsKeptAliveUntilTheNativeCallHasReturned()
    {
        using var module = ModuleDefinition.ReadModule(TorchSharpPath);
        var addScalar = module.GetType("TorchSharp.torch/Tensor").Methods
            .Single(m => m.Name == "add_" && m.Parameters.Count == 2 && m.Parameters[0].ParameterType.Name == "Tensor" && m.Parameters[1].ParameterType.Name == "Scalar");
        var code = addScalar.Body.Instructions;
        int native = code.ToList().FindIndex(i => i.Operand is MethodReference { Name: "THSTensor_add_" });
        var scalar = addScalar.Parameters[1];
        // ldarg.2 (this is argument 0) or its long form naming the parameter, then GC.KeepAlive.
        int keepScalar = code.ToList().FindIndex(i => (i.OpCode.Code == Code.Ldarg_2 || i.Operand == scalar)
                                                     && i.Next.Operand is MethodReference { Name: "KeepAlive", DeclaringType.Name: "GC" });
        Assert.True(native >= 0, "Tensor.add_(Tensor, Scalar) no longer calls THSTensor_add_; check the weaver's rules against this TorchSharp.");
        Assert.True(keepScalar > native, $"The Scalar is not kept alive after the native call:{Environment.NewLine}{string.Join(Environment.NewLine, code)}");
        Assert.Equal(OpCodes.Ret, code[^1].OpCode);
    }

    [Fact]
    public void WeavingAWovenAssemblyAgainChangesNothing()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"faceloss-woven-{Guid.NewGuid():N}.dll");
        try
        {
            var result = KeepAliveWeaver.Weave(TorchSharpPath, copy);
            Assert.True(result.AlreadyWoven);
            Assert.Equal(File.ReadAllBytes(TorchSharpPath), File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>
    /// Every backbone with every head family trains a few steps, embeds, saves and loads, in a child
    /// process while a second thread collects garbage and waits for finalizers in a loop, in rounds for
    /// at least 40 seconds. Before the weaving, this aborted the process within 10 to 20 seconds in
    /// most runs (SIGABRT: a Scalar freed by its finalizer while THSTensor_add read it).
    /// </summary>
    [Fact]
    public async Task TrainingAndEmbeddingSurviveGarbageCollectionAtAnyMoment()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(GcSafetyTests).Assembly.Location, "gc-stress", "40" }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line) lines.Add(line);
        await process.WaitForExitAsync(timeout.Token);
        string transcript = string.Join(Environment.NewLine, lines.TakeLast(20)) + Environment.NewLine + await stderr;
        _output.WriteLine(transcript);
        Assert.True(process.ExitCode == 0, $"The stress child ended with exit code {process.ExitCode} (134: aborted):{Environment.NewLine}{transcript}");

        var report = GcStressReport.FromJson(lines.LastOrDefault() ?? "");
        Assert.NotNull(report);
        Assert.True(report.TorchSharpGcSafe);
        int round = GcStress.Backbones.Length * GcStress.HeadFamilies.Length;
        Assert.True(report.Fits >= round && report.Fits % round == 0, $"{report.Fits} fits are not whole rounds of {round}.");
        Assert.True(report.Steps >= report.Fits * 4, $"Only {report.Steps} steps in {report.Fits} fits.");
        Assert.True(report.ImagesEmbedded == 2L * report.Fits * GcStress.Identities * GcStress.ImagesPerIdentity, $"{report.ImagesEmbedded} images embedded.");
        // The collector really ran beside the training: many forced collections, not a handful.
        Assert.True(report.ForcedCollections >= 10 * report.Fits, $"Only {report.ForcedCollections} forced collections.");
    }
}
