using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>Saved models: a fresh process loads them, corrupt files are named, saving never destroys.</summary>
[Collection(TorchCollection.Name)]
public sealed class ModelFileTests : IDisposable
{
    private readonly OrlModelFixture _fixture;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-models-" + Guid.NewGuid().ToString("N"));

    public ModelFileTests(OrlModelFixture fixture)
    {
        _fixture = fixture;
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string SaveModel(string name = "model.zip")
    {
        string path = Path.Combine(_folder, name);
        _fixture.Ml.FaceRecognition().SaveModel(_fixture.Model, _fixture.TrainingSchema, path);
        return path;
    }

    [OrlFact]
    public void AFreshProcessLoadsTheModelAndEmbedsIdentically()
    {
        string path = SaveModel();
        var faces = _fixture.Ml.Data.CreateEnumerable<EmbeddedFace>(_fixture.Model.Transform(_fixture.Unseen), reuseRowObject: false).Take(5).ToList();
        string testAssembly = typeof(Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "exec", testAssembly, "embed", path }.Concat(faces.Select(f => f.ImagePath))) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(faces.Count, lines.Length);
        for (int i = 0; i < faces.Count; i++)
        {
            var values = lines[i].Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(faces[i].Embedding.Length, values.Length);
            Assert.True(faces[i].Embedding.Zip(values).All(p => Math.Abs(p.First - p.Second) < 1e-6));
        }
    }

    [OrlFact]
    public void ATruncatedModelFileGivesAnErrorThatNamesIt()
    {
        string path = SaveModel();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
    }

    [OrlFact]
    public void CorruptWeightsAreDetectedByTheModelDigest()
    {
        string path = SaveModel();
        FlipByteOfEntry(path, "FaceEmbeddingNetwork.bin", 100);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains("FaceEmbeddingNetwork.bin' differs from what was saved", error.Message);
    }

    [OrlFact]
    public void CorruptWeightsOfAModelWithoutDigestAreDetectedByTheStreamChecksum()
    {
        string path = Path.Combine(_folder, "plain.zip");
        _fixture.Ml.Model.Save(_fixture.Model, _fixture.TrainingSchema, path); // ML.NET's own save: no digest of the whole file
        FlipByteOfEntry(path, "FaceEmbeddingNetwork.bin", 100);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains("checksum", error.Message);
    }

    /// <summary>Flips the bits of one byte, <paramref name="fromEnd"/> bytes before the end of the entry whose name ends so.</summary>
    internal static void FlipByteOfEntry(string path, string entryNameEnd, int fromEnd)
        => FlipByteOfEntry(path, entryNameEnd, content => content.Length - fromEnd);

    /// <summary>Flips the bits of the byte at the index <paramref name="where"/> gives, in the entry whose name ends so.</summary>
    internal static void FlipByteOfEntry(string path, string entryNameEnd, Func<byte[], int> where)
    {
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = zip.Entries.Single(e => e.FullName.EndsWith(entryNameEnd, StringComparison.Ordinal));
            byte[] content;
            using (var stream = entry.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                content = copy.ToArray();
            }
            content[where(content)] ^= 0xFF;
            entry.Delete();
            using var replaced = zip.CreateEntry(entry.FullName).Open();
            replaced.Write(content);
        }
    }

    [OrlFact]
    public void AFailedSaveKeepsTheEarlierModel()
    {
        string path = SaveModel();
        byte[] before = File.ReadAllBytes(path);
        // A custom mapping without a contract name cannot be saved: the save fails part-way.
        var unsavable = _fixture.Ml.Transforms.CustomMapping<EmbeddedFace, EmbeddedFace>((input, output) => { }, contractName: null)
            .Fit(_fixture.Model.Transform(_fixture.Unseen));
        var model = _fixture.Model.Append(unsavable);
        Assert.ThrowsAny<Exception>(() => _fixture.Ml.FaceRecognition().SaveModel(model, _fixture.TrainingSchema, path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AMissingModelFileIsNamed()
    {
        string path = Path.Combine(_folder, "absent.zip");
        var error = Assert.Throws<FileNotFoundException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
    }
}
