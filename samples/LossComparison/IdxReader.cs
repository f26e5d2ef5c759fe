using System.IO.Compression;

namespace LossComparison;

/// <summary>
/// Reads MNIST-format IDX files (MNIST, Fashion-MNIST: <c>train-images-idx3-ubyte</c> and
/// <c>train-labels-idx1-ubyte</c>, optionally gzipped) into grey pixel rows scaled to [-1, 1].
/// </summary>
public static class IdxReader
{
    public static (float[][] Images, int[] Labels, int Height, int Width) Read(string folder, string prefix = "train")
    {
        string images = Find(folder, $"{prefix}-images-idx3-ubyte");
        string labels = Find(folder, $"{prefix}-labels-idx1-ubyte");
        using var imageReader = Open(images);
        using var labelReader = Open(labels);
        if (BigEndian(imageReader) != 0x803) throw new InvalidDataException($"'{images}' is not an IDX image file.");
        if (BigEndian(labelReader) != 0x801) throw new InvalidDataException($"'{labels}' is not an IDX label file.");
        int count = BigEndian(imageReader), height = BigEndian(imageReader), width = BigEndian(imageReader);
        if (BigEndian(labelReader) != count) throw new InvalidDataException($"'{images}' and '{labels}' hold different numbers of items.");
        var pixels = new float[count][];
        var classes = new int[count];
        for (int i = 0; i < count; i++)
        {
            var bytes = imageReader.ReadBytes(height * width);
            if (bytes.Length < height * width) throw new InvalidDataException($"'{images}' is truncated at image {i}.");
            pixels[i] = bytes.Select(b => b / 127.5f - 1).ToArray();
            classes[i] = labelReader.ReadByte();
        }
        return (pixels, classes, height, width);
    }

    private static string Find(string folder, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz", name.Replace("-idx", ".idx") , name.Replace("-idx", ".idx") + ".gz" })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"'{folder}' has no {name} (or {name}.gz).", Path.Combine(folder, name));
    }

    private static BinaryReader Open(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new BinaryReader(new BufferedStream(stream));
    }

    private static int BigEndian(BinaryReader reader)
    {
        var b = reader.ReadBytes(4);
        return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    }
}
