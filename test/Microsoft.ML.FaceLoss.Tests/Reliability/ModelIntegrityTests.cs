using System.IO.Compression;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Tests.Pipelines;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>A damaged model is refused at load with the file named; a model without a usable embedding never loads.</summary>
[Collection(TorchCollection.Name)]
public sealed class ModelIntegrityTests : IDisposable
{
    private readonly TinyImageModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    private static string EntryOf(string path, Func<string, bool> which)
    {
        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        return names.SingleOrDefault(which) ?? throw new InvalidOperationException("No such entry among: " + string.Join(", ", names));
    }

    [Fact]
    public void AFlippedByteInOurOwnEntryIsRefusedEvenWithoutTheFileDigest()
    {
        // ML.NET's own save (no digest of the whole file): the embedding transformer's entry carries its own checksum.
        string path = Path.Combine(_tiny.Folder, "plain.zip");
        _tiny.Ml.Model.Save(_tiny.Model, _tiny.InputSchema, path);
        string entry = EntryOf(path, e => e == "TransformerChain/Transform_001/Model.key"); // the embedding transformer's own entry
        // A byte of our content (after the container's signature, version, length and digest): the output column's name.
        ModelFileTests.FlipByteOfEntry(path, entry, content => content.AsSpan().IndexOf("MLFACELS"u8) + 8 + 4 + 8 + 32 + 12);
        var error = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _));
        Assert.Contains("checksum", Innermost(error).Message);
    }

    [Fact]
    public void AFlippedByteInAnMLNetEntryIsRefusedWithTheFileAndTheEntry()
    {
        string path = _tiny.Save();
        string pixels = EntryOf(path, e => e == "TransformerChain/Transform_000/Transform_002/Model.key"); // ML.NET's ExtractPixels
        ModelFileTests.FlipByteOfEntry(path, pixels, 30);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains($"'{pixels}' differs from what was saved", error.Message);
        // A plain mlContext.Model.Load is refused too: this library's loader checks the digest.
        var plain = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _));
        Assert.Contains("differs from what was saved", Innermost(plain).Message);
    }

    [Fact]
    public void AnAddedOrMissingEntryIsRefused()
    {
        string path = _tiny.Save();
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            using (var stream = zip.CreateEntry("TransformerChain/Extra.bin").Open()) stream.WriteByte(1);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains("'TransformerChain/Extra.bin' was not in it when it was saved", error.Message);
    }

    [Fact]
    public void ImageStepsSavedWithoutTheTrainerAreRefusedByLoadModel()
    {
        string path = Path.Combine(_tiny.Folder, "steps.zip");
        var steps = TinyImageModel.Preprocessing(_tiny.Ml).Fit(_tiny.Images);
        _tiny.Ml.FaceRecognition().SaveModel(steps, _tiny.InputSchema, path);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains("holds no face embedding", error.Message);
        Assert.Contains("ImagePixelExtractingTransformer", error.Message);
    }

    [Fact]
    public void AModelWhoseWeightsGiveEmptyEmbeddingsIsRefusedAtLoad()
    {
        var embedder = _tiny.Model.LastTransformer;
        using (no_grad())
            foreach (var parameter in embedder.Network.Module.parameters()) parameter.zero_();
        foreach (var (_, buffer) in embedder.Network.Module.named_buffers()) using (no_grad()) buffer.zero_();
        string path = _tiny.Save("zero.zip");
        var error = Assert.Throws<InvalidDataException>(() => new MLContext().FaceRecognition().LoadModel(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains("not unit vectors", error.Message);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
