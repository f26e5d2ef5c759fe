using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>Reads the boolean and int64 arrays of NumPy <c>.npz</c> archives (the Omniglot files).</summary>
internal static class NpyReader
{
    /// <summary>The shape and raw bytes of one array of an archive.</summary>
    public static (int[] Shape, byte[] Data, string Type) Read(string npzFile, string arrayName)
    {
        using var archive = ZipFile.OpenRead(npzFile);
        var entry = archive.GetEntry(arrayName + ".npy") ?? throw new InvalidDataException($"'{npzFile}' has no array '{arrayName}'.");
        using var stream = entry.Open();
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(6);
        if (magic[0] != 0x93 || magic[1] != (byte)'N') throw new InvalidDataException($"'{arrayName}' in '{npzFile}' is not a NumPy array.");
        byte major = reader.ReadByte();
        reader.ReadByte();
        int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        string header = System.Text.Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        string type = Regex.Match(header, "'descr': *'([^']*)'").Groups[1].Value;
        if (header.Contains("'fortran_order': True")) throw new InvalidDataException("Fortran-ordered arrays are not supported.");
        var shape = Regex.Match(header, @"'shape': *\(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int itemSize = type.EndsWith("b1", StringComparison.Ordinal) || type.EndsWith("u1", StringComparison.Ordinal) ? 1 : type.EndsWith('8') ? 8 : 4;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var data = buffer.ToArray();
        if (data.LongLength != count * itemSize) throw new InvalidDataException($"'{arrayName}' in '{npzFile}' is truncated.");
        return (shape, data, type);
    }
}
