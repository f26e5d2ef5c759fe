namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Training-time image augmentation on planar C x H x W pixels, in place and without allocating.</summary>
internal static class Augmentation
{
    /// <summary>What one image gets: a left-right flip, and a shift of (dy, dx) pixels (a random crop of the zero-padded image).</summary>
    public readonly record struct Draw(bool Flip, int ShiftY, int ShiftX);

    /// <summary>Draws the augmentation of one image from its own seed: flip with probability 1/2, shifts uniform in [-padding, padding].</summary>
    public static Draw Choose(ulong seed, bool flip, int padding)
    {
        var random = new SplitMix64(seed);
        bool flipped = flip && random.Next(2) == 1;
        return padding > 0
            ? new Draw(flipped, random.Next(-padding, padding + 1), random.Next(-padding, padding + 1))
            : new Draw(flipped, 0, 0);
    }

    /// <summary>Applies <paramref name="draw"/> to one image: output pixel (y, x) = input (y + dy, x + dx), zero outside.</summary>
    public static void Apply(Span<float> image, int channels, int height, int width, Draw draw)
    {
        if (draw.Flip)
        {
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    image.Slice((c * height + y) * width, width).Reverse();
        }
        if (draw.ShiftY != 0 || draw.ShiftX != 0) Shift(image, channels, height, width, draw.ShiftY, draw.ShiftX);
    }

    private static void Shift(Span<float> image, int channels, int height, int width, int dy, int dx)
    {
        // Rows are visited so that a source row is read before it is overwritten; within a row CopyTo handles overlap.
        int from = Math.Max(0, -dx), to = Math.Min(width, width - dx);
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (int i = 0; i < height; i++)
            {
                int y = dy >= 0 ? i : height - 1 - i;
                int sy = y + dy;
                var row = plane.Slice(y * width, width);
                if (sy < 0 || sy >= height || to <= from)
                {
                    row.Clear();
                    continue;
                }
                plane.Slice(sy * width + from + dx, to - from).CopyTo(row.Slice(from, to - from));
                row.Slice(0, from).Clear();
                row.Slice(to).Clear();
            }
        }
    }
}

/// <summary>A small seeded random generator (SplitMix64) that lives on the stack.</summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => (int)(Next() % (ulong)maxExclusive);

    /// <summary>An integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int minInclusive, int maxExclusive) => minInclusive + Next(maxExclusive - minInclusive);
}
