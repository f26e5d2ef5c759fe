namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Training-time image augmentation on planar C x H x W pixels.</summary>
internal static class Augmentation
{
    /// <summary>Flips the image left-right with probability 1/2 and, with padding p, shifts it by up to p pixels (zero fill), as a random crop of the padded image.</summary>
    public static void Apply(Span<float> image, int channels, int height, int width, Random random, bool flip, int padding)
    {
        if (flip && random.Next(2) == 1)
        {
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    image.Slice((c * height + y) * width, width).Reverse();
        }
        if (padding > 0)
        {
            int dy = random.Next(-padding, padding + 1), dx = random.Next(-padding, padding + 1);
            if (dy != 0 || dx != 0) Shift(image, channels, height, width, dy, dx);
        }
    }

    private static void Shift(Span<float> image, int channels, int height, int width, int dy, int dx)
    {
        var source = image.ToArray();
        image.Clear();
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int sy = y + dy;
                if (sy < 0 || sy >= height) continue;
                int from = Math.Max(0, -dx), to = Math.Min(width, width - dx);
                if (to <= from) continue;
                source.AsSpan((c * height + sy) * width + from + dx, to - from).CopyTo(image.Slice((c * height + y) * width + from, to - from));
            }
        }
    }
}
