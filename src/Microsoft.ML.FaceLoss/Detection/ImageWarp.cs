using Microsoft.ML.Data;
namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>Resamples an image through a similarity transform (bilinear, black outside the source).</summary>
internal static class ImageWarp
{
    /// <summary>
    /// The <paramref name="size"/> x <paramref name="size"/> image whose pixel (u, v) is the source
    /// sampled at <paramref name="toSource"/>(u, v), pixel centres at whole numbers; BGRA, opaque.
    /// </summary>
    public static MLImage Warp(MLImage source, SimilarityTransform toSource, int size)
    {
        bool bgra = source.PixelFormat == MLPixelFormat.Bgra32;
        if (source.BitsPerPixel != 32 || source.PixelFormat is not (MLPixelFormat.Bgra32 or MLPixelFormat.Rgba32))
            throw new ArgumentException($"Alignment reads 32-bit BGRA or RGBA images; this one is {source.PixelFormat} with {source.BitsPerPixel} bits a pixel.", nameof(source));
        int width = source.Width, height = source.Height;
        var pixels = source.Pixels;
        var output = new byte[size * size * 4];
        for (int v = 0; v < size; v++)
            for (int u = 0; u < size; u++)
            {
                var (x, y) = toSource.Apply(u, v);
                int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
                double fx = x - x0, fy = y - y0;
                int o = (v * size + u) * 4;
                for (int c = 0; c < 3; c++)
                {
                    double value = 0;
                    for (int dy = 0; dy <= 1; dy++)
                        for (int dx = 0; dx <= 1; dx++)
                        {
                            int sx = x0 + dx, sy = y0 + dy;
                            if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
                            double weight = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy);
                            value += weight * pixels[(sy * width + sx) * 4 + c];
                        }
                    // The output is BGRA: swap red and blue when the source is RGBA.
                    output[o + (bgra ? c : 2 - c)] = (byte)Math.Clamp(Math.Round(value), 0, 255);
                }
                output[o + 3] = 255;
            }
        return MLImage.CreateFromPixels(size, size, MLPixelFormat.Bgra32, output);
    }
}
