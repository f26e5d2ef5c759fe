using System.Text;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>Bad image files and paths are refused with the file or row and what is wrong.</summary>
[Collection(TorchCollection.Name)]
public sealed class InputMessageTests : IDisposable
{
    private readonly TinyImageModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_tiny.Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private byte[] AGoodJpeg()
    {
        string path = Path.Combine(_tiny.Folder, "good.jpg");
        using (var bitmap = SkiaSharp.SKBitmap.Decode(File.ReadAllBytes(_tiny.ImagePaths[0])))
        using (var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90))
            File.WriteAllBytes(path, data.ToArray());
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void AnEmptyFileIsNamedAsEmpty()
    {
        string path = Write("empty.png", Array.Empty<byte>());
        var error = Assert.Throws<InvalidDataException>(() => FaceImageLoadingTransformer.LoadImage(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("empty (0 bytes)", error.Message);
    }

    [Fact]
    public void TextNamedJpgIsNamedAsNotAnImage()
    {
        string path = Write("notes.jpg", Encoding.ASCII.GetBytes("these are my notes, not a photo"));
        var error = Assert.Throws<InvalidDataException>(() => FaceImageLoadingTransformer.LoadImage(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("is not a JPEG, PNG, GIF, BMP or WebP image", error.Message);
    }

    [Fact]
    public void ATruncatedJpegIsRefused()
    {
        byte[] jpeg = AGoodJpeg();
        Assert.NotNull(FaceImageLoadingTransformer.LoadImage(Write("whole.jpg", jpeg)));
        string path = Write("cut.jpg", jpeg.AsSpan(0, jpeg.Length * 4 / 10).ToArray());
        var error = Assert.Throws<InvalidDataException>(() => FaceImageLoadingTransformer.LoadImage(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("JPEG is truncated", error.Message);
    }

    [Fact]
    public void ACorruptJpegIsRefusedWithTheFile()
    {
        byte[] jpeg = AGoodJpeg();
        for (int i = 20; i < jpeg.Length - 2; i++) jpeg[i] = 0x5A; // a JPEG start and end, garbage between
        string path = Write("corrupt.jpg", jpeg);
        var error = Assert.Throws<InvalidDataException>(() => FaceImageLoadingTransformer.LoadImage(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void APgmHeaderClaimingAHugeImageIsRefusedWithTheFile()
    {
        string path = Write("huge.pgm", Encoding.ASCII.GetBytes("P5 100000 100000 255\n").Concat(new byte[64]).ToArray());
        var error = Assert.Throws<InvalidDataException>(() => FaceImageLoadingTransformer.LoadImage(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("100000 x 100000", error.Message);
    }

    [Fact]
    public void AnEmptyImagePathIsRefusedWithItsRow()
    {
        var rows = _tiny.ImagePaths.Select(p => new TinyImageModel.PathRow { ImagePath = p }).ToList();
        rows[2].ImagePath = "";
        var data = _tiny.Ml.Data.LoadFromEnumerable(rows);
        var embedded = _tiny.Model.Transform(data);
        var refused = Assert.Throws<InvalidDataException>(() => _tiny.Ml.Data.CreateEnumerable<TinyImageModel.EmbeddingRow>(embedded, reuseRowObject: false).ToList());
        Assert.Contains("Row 2 has an empty image path in column 'ImagePath'", refused.Message);
    }
}
