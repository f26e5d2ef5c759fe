using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// The container of every binary stream this library writes into a model file: a magic number, a
/// format version, the payload length and its SHA-256, then the payload. Reading checks all four,
/// so a truncated or corrupt stream fails with a message that says which, never with garbage weights.
/// </summary>
internal static class ModelStreamFormat
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("MLFACELS");

    public static void Write(BinaryWriter writer, int version, Action<BinaryWriter> writePayload)
    {
        using var buffer = new MemoryStream();
        using (var payloadWriter = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            writePayload(payloadWriter);
        byte[] payload = buffer.ToArray();
        writer.Write(Magic);
        writer.Write(version);
        writer.Write((long)payload.Length);
        writer.Write(SHA256.HashData(payload));
        writer.Write(payload);
    }

    /// <param name="reader">The stream.</param>
    /// <param name="what">What the stream holds, for messages ("face embedding network").</param>
    /// <param name="newestVersion">The newest format version this build reads.</param>
    /// <param name="readPayload">Reads the payload, given its format version.</param>
    public static T Read<T>(BinaryReader reader, string what, int newestVersion, Func<BinaryReader, int, T> readPayload)
    {
        byte[] magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException($"The {what} stream does not start with the Microsoft.ML.FaceLoss signature; the model file is corrupt or was not written by this library.");
        if (reader.BaseStream.Length - reader.BaseStream.Position < 4 + 8 + 32)
            throw new InvalidDataException($"The {what} stream is truncated (its header is incomplete).");
        int version = reader.ReadInt32();
        if (version < 1 || version > newestVersion)
            throw new InvalidDataException($"The {what} stream has format version {version}; this build of Microsoft.ML.FaceLoss reads versions 1 to {newestVersion}. Update the library to load this model.");
        long length = reader.ReadInt64();
        byte[] hash = reader.ReadBytes(32);
        long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        if (length < 0 || length > int.MaxValue)
            throw new InvalidDataException($"The {what} stream is corrupt (payload length {length}).");
        if (length > remaining) // checked before allocating: a damaged length must not ask for gigabytes
            throw new InvalidDataException($"The {what} stream is truncated: {remaining} of {length} payload bytes are present.");
        byte[] payload = reader.ReadBytes((int)length);
        if (payload.Length != length)
            throw new InvalidDataException($"The {what} stream is truncated: {payload.Length} of {length} payload bytes are present.");
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            throw new InvalidDataException($"The {what} stream is corrupt: its checksum does not match its content.");
        using var payloadReader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
        return readPayload(payloadReader, version);
    }
}
