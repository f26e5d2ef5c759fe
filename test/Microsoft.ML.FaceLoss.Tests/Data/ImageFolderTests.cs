using Microsoft.ML.FaceLoss.Data;

namespace Microsoft.ML.FaceLoss.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "faceloss-folder-" + Guid.NewGuid().ToString("N"));
    private readonly MLContext _ml = new(seed: 1);

    public ImageFolderTests()
    {
        Touch("s10", "1.pgm", "2.pgm");
        Touch("s2", "10.png", "2.jpg", "notes.txt");
        Touch("s1", "1.pgm");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Touch(string identity, params string[] files)
    {
        Directory.CreateDirectory(Path.Combine(_root, identity));
        foreach (var file in files) File.WriteAllBytes(Path.Combine(_root, identity, file), Array.Empty<byte>());
    }

    private List<FaceImageRow> Rows(ImageFolderOptions? options = null)
        => _ml.Data.CreateEnumerable<FaceImageRow>(_ml.FaceRecognition().Data.LoadImageFolder(_root, options), reuseRowObject: false).ToList();

    [Fact]
    public void ListsImagesPerIdentityInNaturalOrder()
    {
        var rows = Rows();
        Assert.Equal(new[] { "s1", "s2", "s2", "s10", "s10" }, rows.Select(r => r.Identity));
        Assert.Equal(new[] { "1.pgm", "2.jpg", "10.png", "1.pgm", "2.pgm" }, rows.Select(r => Path.GetFileName(r.ImagePath)));
        Assert.All(rows, r => Assert.True(Path.IsPathRooted(r.ImagePath)));
    }

    [Fact]
    public void LeavesOutIdentitiesWithTooFewImages()
        => Assert.DoesNotContain("s1", Rows(new ImageFolderOptions { MinimumImagesPerIdentity = 2 }).Select(r => r.Identity));

    [Fact]
    public void ReadsOnlyTheGivenExtensions()
        => Assert.Equal(new[] { "s1", "s10", "s10" }, Rows(new ImageFolderOptions { Extensions = new[] { ".PGM" } }).Select(r => r.Identity));

    [Fact]
    public void FiltersIdentities()
        => Assert.Equal(new[] { "s2", "s2" }, Rows(new ImageFolderOptions { IdentityFilter = id => id == "s2" }).Select(r => r.Identity));

    [Fact]
    public void HasTextColumnsImagePathAndIdentity()
    {
        var schema = _ml.FaceRecognition().Data.LoadImageFolder(_root).Schema;
        Assert.IsType<TextDataViewType>(schema["ImagePath"].Type);
        Assert.IsType<TextDataViewType>(schema["Identity"].Type);
    }

    [Fact]
    public void AMissingFolderIsNamed()
    {
        string missing = Path.Combine(_root, "nope");
        var error = Assert.Throws<DirectoryNotFoundException>(() => _ml.FaceRecognition().Data.LoadImageFolder(missing));
        Assert.Contains(missing, error.Message);
    }
}
