using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>Images as tensors for face-api's networks: RGB planes on the 0..255 scale.</summary>
internal static class ImageTensors
{
    /// <summary>The image as a 3 x H x W float tensor, RGB, values 0..255 (alpha dropped).</summary>
    public static Tensor Rgb(MLImage image) => Rgb(image, 0, 0, image?.Width ?? 0, image?.Height ?? 0);

    /// <summary>The region (<paramref name="left"/>, <paramref name="top"/>, <paramref name="width"/> x <paramref name="height"/>) of the image as a 3 x height x width float tensor, RGB, 0..255.</summary>
    public static Tensor Rgb(MLImage image, int left, int top, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.BitsPerPixel != 32 || image.PixelFormat is not (MLPixelFormat.Bgra32 or MLPixelFormat.Rgba32))
            throw new ArgumentException($"Face detection reads 32-bit BGRA or RGBA images; this one is {image.PixelFormat} with {image.BitsPerPixel} bits a pixel.", nameof(image));
        int plane = width * height;
        var pixels = image.Pixels;
        var rgb = new float[3 * plane];
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int s = 4 * ((top + y) * image.Width + left + x), i = y * width + x;
                byte c0 = pixels[s], c1 = pixels[s + 1], c2 = pixels[s + 2];
                rgb[i] = bgra ? c2 : c0;
                rgb[plane + i] = c1;
                rgb[2 * plane + i] = bgra ? c0 : c2;
            }
        return tensor(rgb).view(3, height, width);
    }

    /// <summary>
    /// The image padded with black to a square (after the right or bottom edge when
    /// <paramref name="centred"/> is false, evenly on both sides when true) and resized bilinearly
    /// to <paramref name="side"/>: 1 x 3 x side x side. Returns the padding added before the image
    /// (left, top) and the square's side, in source pixels.
    /// </summary>
    public static (Tensor Square, float PadLeft, float PadTop, int SourceSide) ToSquare(Tensor rgb, int side, bool centred)
    {
        long height = rgb.shape[1], width = rgb.shape[2];
        long square = Math.Max(height, width);
        long padW = square - width, padH = square - height;
        long left = centred ? padW - (long)Math.Round(padW * 0.5, MidpointRounding.AwayFromZero) : 0;
        long top = centred ? padH - (long)Math.Round(padH * 0.5, MidpointRounding.AwayFromZero) : 0;
        using var padded = nn.functional.pad(rgb.unsqueeze(0), new long[] { left, padW - left, top, padH - top });
        var resized = nn.functional.interpolate(padded, new long[] { side, side }, mode: InterpolationMode.Bilinear, align_corners: false);
        return (resized, left, top, (int)square);
    }
}
