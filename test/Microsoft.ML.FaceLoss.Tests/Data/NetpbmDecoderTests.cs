using System.Text;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Data;

public sealed class NetpbmDecoderTests
{
    private static byte[] Bytes(string header, params byte[] pixels) => Encoding.ASCII.GetBytes(header).Concat(pixels).ToArray();

    [Fact]
    public void BinaryGreyMapBecomesEqualBgrChannels()
    {
        using var image = NetpbmDecoder.Decode(Bytes("P5\n# a comment\n3 2\n255\n", 0, 10, 20, 30, 40, 255));
        Assert.Equal((3, 2), (image.Width, image.Height));
        var pixels = image.Pixels.ToArray();
        Assert.Equal(new byte[] { 10, 10, 10, 255 }, pixels.AsSpan(4, 4).ToArray());
        Assert.Equal(new byte[] { 255, 255, 255, 255 }, pixels.AsSpan(20, 4).ToArray());
    }

    [Fact]
    public void PlainGreyMapScalesToEightBits()
    {
        using var image = NetpbmDecoder.Decode(Encoding.ASCII.GetBytes("P2 2 1 15 0 15\n"));
        Assert.Equal(new byte[] { 0, 0, 0, 255, 255, 255, 255, 255 }, image.Pixels.ToArray());
    }

    [Fact]
    public void BinaryPixMapIsStoredAsBgra()
    {
        using var image = NetpbmDecoder.Decode(Bytes("P6 1 1 255\n", 200, 100, 50));
        Assert.Equal(new byte[] { 50, 100, 200, 255 }, image.Pixels.ToArray());
    }

    [Fact]
    public void SixteenBitSamplesAreBigEndian()
    {
        using var image = NetpbmDecoder.Decode(Bytes("P5 1 1 65535\n", 0xFF, 0xFF));
        Assert.Equal(255, image.Pixels[0]);
    }

    [Fact]
    public void TruncatedPixelsAreReported()
    {
        var error = Assert.Throws<InvalidDataException>(() => NetpbmDecoder.Decode(Bytes("P5 4 4 255\n", 1, 2, 3)));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void OtherFormatsAreRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => NetpbmDecoder.Decode(Encoding.ASCII.GetBytes("GIF89a")));
        Assert.Contains("signature", error.Message);
    }

    [Fact]
    public void ACorruptFileIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-{Guid.NewGuid():N}.pgm");
        File.WriteAllBytes(path, Bytes("P5 10 10 255\n", 1));
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => NetpbmDecoder.Load(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [OrlFact]
    public void AnOrlFaceDecodesAt92By112()
    {
        using var image = NetpbmDecoder.Load(Path.Combine(TestData.OrlRoot, "s1", "1.pgm"));
        Assert.Equal((92, 112), (image.Width, image.Height));
    }
}
