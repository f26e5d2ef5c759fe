using System.Diagnostics;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>Saving is atomic and tidy: no model is lost, no temporary file outlives its save.</summary>
[Collection(TorchCollection.Name)]
public sealed class SaveFileTests : IDisposable
{
    private readonly TinyImageModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    [Fact]
    public void SavingWhereTheFolderIsAFileSaysSo()
    {
        string file = Path.Combine(_tiny.Folder, "not-a-folder");
        File.WriteAllText(file, "x");
        var error = Assert.Throws<IOException>(() => _tiny.Ml.FaceRecognition().SaveModel(_tiny.Model, _tiny.InputSchema, Path.Combine(file, "model.zip")));
        Assert.Contains("is a file, not a folder", error.Message);
    }

    [Fact]
    public void TemporaryFilesOfDeadSavesAreRemovedByTheNextSave()
    {
        string path = Path.Combine(_tiny.Folder, "model.zip");
        string deadProcess = path + ".999999.tmp";           // a process id that does not run
        string earlierVersion = path + "." + Guid.NewGuid().ToString("N") + ".tmp"; // how earlier versions named them
        File.WriteAllText(deadProcess, "half a model");
        File.WriteAllText(earlierVersion, "half a model");
        File.SetLastWriteTimeUtc(earlierVersion, DateTime.UtcNow.AddHours(-1));
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(999999));
        _tiny.Save();
        Assert.Empty(Directory.GetFiles(_tiny.Folder, "*.tmp"));
    }

    /// <summary>A process killed in the middle of saving leaves at most its one temporary file, which the next save removes.</summary>
    [Fact]
    public async Task AKilledSaveLosesNothingAndLeavesNothingBehind()
    {
        string model = _tiny.Save("source.zip");
        string target = Path.Combine(_tiny.Folder, "target.zip");
        _tiny.Ml.FaceRecognition().SaveModel(_tiny.Model, _tiny.InputSchema, target);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "exec", typeof(Program).Assembly.Location, "save-loop", model, target }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        // Wait until the child has saved a few times, then kill it wherever it is.
        for (int i = 0; i < 600 && await process.StandardOutput.ReadLineAsync() is { } line && line != "saved 5"; i++) { }
        await Task.Delay(137);
        process.Kill();
        await process.WaitForExitAsync();
        Assert.True(Directory.GetFiles(_tiny.Folder, "target.zip.*.tmp").Length <= 1);
        Assert.NotNull(new MLContext().FaceRecognition().LoadModel(target, out _)); // the last whole save survives

        _tiny.Ml.FaceRecognition().SaveModel(_tiny.Model, _tiny.InputSchema, target);
        Assert.Empty(Directory.GetFiles(_tiny.Folder, "*.tmp"));
    }
}
