using System.Text;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Tests.Data;

/// <summary>PGM, PNG and JPEG images load in one pipeline and feed ML.NET's image transforms.</summary>
public sealed class FaceImageLoadingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-images-" + Guid.NewGuid().ToString("N"));
    private readonly MLContext _ml = new(seed: 1);

    public FaceImageLoadingTests()
    {
        Directory.CreateDirectory(_folder);
        // A 4 x 2 grey ramp as PGM, and the same picture saved by SkiaSharp as PNG and JPEG.
        var pgm = Encoding.ASCII.GetBytes("P5 4 2 255\n").Concat(new byte[] { 0, 60, 120, 180, 240, 200, 100, 20 }).ToArray();
        File.WriteAllBytes(Path.Combine(_folder, "a.pgm"), pgm);
        using var image = FaceLoss.Data.NetpbmDecoder.Decode(pgm);
        image.Save(Path.Combine(_folder, "a.png"));
        image.Save(Path.Combine(_folder, "a.jpg"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private float[] Pixels(string file)
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = file } });
        var pipeline = _ml.Transforms.LoadImagesWithNetpbm("Image", _folder, "ImagePath")
            .Append(_ml.Transforms.ResizeImages("Image", 4, 2))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red));
        return _ml.Data.CreateEnumerable<PixelRow>(pipeline.Fit(data).Transform(data), reuseRowObject: false).Single().Pixels;
    }

    [Fact]
    public void PgmPixelsReachExtractPixels()
        => Assert.Equal(new float[] { 0, 60, 120, 180, 240, 200, 100, 20 }, Pixels("a.pgm"));

    [Fact]
    public void PngLoadsLikeThePgm()
        => Assert.Equal(Pixels("a.pgm"), Pixels("a.png"));

    [Fact]
    public void JpegLoadsToAboutTheSamePixels()
        => Assert.True(Pixels("a.pgm").Zip(Pixels("a.jpg")).All(p => Math.Abs(p.First - p.Second) < 40));

    [Fact]
    public void AMissingImageIsNamed()
    {
        var error = Assert.ThrowsAny<Exception>(() => Pixels("missing.pgm"));
        Assert.Contains("missing.pgm", error.ToString());
    }

    [Fact]
    public void ResizeAndGreyscaleWorkOnLoadedPgm()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = "a.pgm" } });
        var pipeline = _ml.Transforms.LoadImagesWithNetpbm("Image", _folder, "ImagePath")
            .Append(_ml.Transforms.ConvertToGrayscale("Image"))
            .Append(_ml.Transforms.ResizeImages("Image", 8, 4))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red));
        var type = (VectorDataViewType)pipeline.Fit(data).Transform(data).Schema["Pixels"].Type;
        Assert.Equal(new[] { 1, 4, 8 }, type.Dimensions.ToArray());
    }

    [Fact]
    public void TheLoaderSurvivesSaveAndLoad()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = "a.pgm" } });
        var model = _ml.Transforms.LoadImagesWithNetpbm("Image", _folder, "ImagePath").Fit(data);
        string path = Path.Combine(_folder, "loader.zip");
        _ml.Model.Save(model, data.Schema, path);
        var loaded = Assert.IsType<FaceLoss.Data.FaceImageLoadingTransformer>(new MLContext().Model.Load(path, out _));
        Assert.Equal((_folder, "ImagePath", "Image"), (loaded.ImageFolder, loaded.InputColumnName, loaded.OutputColumnName));
    }

    [Fact]
    public void CropImagesKeepsTheCentreShare()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = "a.pgm" } });
        // The 4 x 2 ramp cropped to half its width and height: the centre 2 x 1 pixels, 60 and 120.
        var pipeline = _ml.Transforms.LoadImagesWithNetpbm("Image", _folder, "ImagePath")
            .Append(_ml.Transforms.CropImagesToCenter("Image", 0.5))
            .Append(_ml.Transforms.ResizeImages("Image", 2, 1))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red));
        var model = pipeline.Fit(data);
        Assert.Equal(new float[] { 60, 120 }, _ml.Data.CreateEnumerable<PixelRow>(model.Transform(data), reuseRowObject: false).Single().Pixels);

        string path = Path.Combine(_folder, "crop.zip");
        _ml.Model.Save(model, data.Schema, path);
        var loaded = new MLContext().Model.Load(path, out _);
        Assert.Equal(new float[] { 60, 120 }, _ml.Data.CreateEnumerable<PixelRow>(loaded.Transform(data), reuseRowObject: false).Single().Pixels);
    }

    [Fact]
    public void ACropShareOutsideZeroToOneIsRefused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.CropImagesToCenter("Image", 1.5));

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class PixelRow
    {
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }
}
