using System.Text;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// What a transformer reads its entry of an ML.NET model file with (see <see cref="ModelWriter"/>):
/// for an entry of version 2 the content is checked against its SHA-256 before anything is read; an
/// entry of version 1 (written before the checksum) is read as it is. Wraps ML.NET's internal <c>ModelLoadContext</c>.
/// </summary>
internal sealed class ModelReader
{
    private const int NewestContentVersion = 1;
    private readonly ModelLoadContext _context;
    private readonly bool _checksummed;

    public ModelReader(ModelLoadContext context, string what)
    {
        _context = context;
        _checksummed = context.Header.ModelVerWritten >= TransformerFormat.Version2;
        Reader = _checksummed
            ? ModelStreamFormat.Read(context.Reader, what, NewestContentVersion, (payload, _) => new BinaryReader(new MemoryStream(payload.ReadBytes((int)(payload.BaseStream.Length))), Encoding.UTF8))
            : context.Reader;
    }

    /// <summary>The entry's content.</summary>
    public BinaryReader Reader { get; }

    /// <summary>Reads a non-empty string.</summary>
    public string ReadString()
    {
        if (!_checksummed) return _context.LoadNonEmptyString();
        string value = Reader.ReadString();
        return value.Length > 0 ? value : throw new InvalidDataException("An empty string stands where the model needs a name.");
    }

    /// <summary>Reads a string that may be null.</summary>
    public string? ReadStringOrNull()
    {
        if (!_checksummed) return _context.LoadStringOrNull();
        return Reader.ReadBoolean() ? Reader.ReadString() : null;
    }

    /// <summary>
    /// Reads the named stream written by <see cref="ModelWriter.WriteStream"/>, checking its signature,
    /// version, length and checksum; <paramref name="what"/> names its content in error messages.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is missing, truncated or corrupt, or of a newer format.</exception>
    public T ReadStream<T>(string name, string what, int newestVersion, Func<BinaryReader, int, T> read)
    {
        T? result = default;
        bool found = _context.TryLoadBinaryStream(name, reader => result = ModelStreamFormat.Read(reader, what, newestVersion, read));
        return found && result is not null ? result
            : throw new InvalidDataException($"The model has no '{name}' stream for its {what}; the file is incomplete.");
    }
}
