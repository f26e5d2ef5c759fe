using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// The file of a checkpoint: what the run must match to resume (<see cref="Fingerprint"/>), where it
/// stands (<see cref="State"/>), and the weights and state of the network, the heads and the
/// optimizer, and torch's random state. Written atomically (a temporary file moved over the old one)
/// in the checksummed container of <see cref="ModelStreamFormat"/>.
/// </summary>
internal sealed class TrainingCheckpoint
{
    public const string FileName = "checkpoint.bin";
    private const int FormatVersion = 1;

    public TrainingFingerprint Fingerprint { get; init; } = new(Array.Empty<KeyValuePair<string, string>>());

    public TrainingState State { get; init; } = new();

    public byte[] Network { get; init; } = Array.Empty<byte>();

    public byte[] Heads { get; init; } = Array.Empty<byte>();

    public byte[] Optimizer { get; init; } = Array.Empty<byte>();

    public byte[] RandomState { get; init; } = Array.Empty<byte>();

    public static string PathIn(string folder) => Path.Combine(folder, FileName);

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = PathIn(folder);
        string temporary = ModelFile.Temporary.For(path);
        ModelFile.Temporary.RemoveAbandoned(path);
        try
        {
            using (var stream = File.Create(temporary))
            using (var writer = new BinaryWriter(stream))
                ModelStreamFormat.Write(writer, FormatVersion, Write);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>The checkpoint in <paramref name="folder"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt; the message names it.</exception>
    public static TrainingCheckpoint? TryLoad(string folder)
    {
        string path = PathIn(folder);
        if (!File.Exists(path)) return null;
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>The checkpoint in <paramref name="bytes"/>, the contents of the file <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are truncated or corrupt; the message names the file.</exception>
    public static TrainingCheckpoint Parse(byte[] bytes, string path)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Read(stream, path);
    }

    private static TrainingCheckpoint Read(Stream stream, string path)
    {
        try
        {
            using var reader = new BinaryReader(stream);
            return ModelStreamFormat.Read(reader, "training checkpoint", FormatVersion, (payload, _) => Read(payload));
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' cannot be read: {e.Message} Delete it to train from the start.", e);
        }
    }

    private void Write(BinaryWriter w)
    {
        w.Write(Fingerprint.ToString());
        State.Write(w);
        foreach (var bytes in new[] { Network, Heads, Optimizer, RandomState, State.BestNetwork })
        {
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }

    private static TrainingCheckpoint Read(BinaryReader r)
    {
        var fingerprint = TrainingFingerprint.Parse(r.ReadString());
        var state = TrainingState.Read(r);
        byte[] Bytes()
        {
            int length = r.ReadInt32();
            if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
                throw new InvalidDataException($"A block of the checkpoint claims {length} bytes; {r.BaseStream.Length - r.BaseStream.Position} remain.");
            return r.ReadBytes(length);
        }
        var checkpoint = new TrainingCheckpoint { Fingerprint = fingerprint, State = state, Network = Bytes(), Heads = Bytes(), Optimizer = Bytes(), RandomState = Bytes() };
        state.BestNetwork = Bytes();
        return checkpoint;
    }
}
