namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// What a transformer reads its entry of an ML.NET model file with (see <see cref="ModelWriter"/>).
/// Wraps ML.NET's internal <c>ModelLoadContext</c>.
/// </summary>
internal sealed class ModelReader
{
    private readonly ModelLoadContext _context;

    public ModelReader(ModelLoadContext context) => _context = context;

    /// <summary>The entry's own binary content.</summary>
    public BinaryReader Reader => _context.Reader;

    /// <summary>Reads a non-empty string.</summary>
    public string ReadString() => _context.LoadNonEmptyString();

    /// <summary>Reads a string that may be null.</summary>
    public string? ReadStringOrNull() => _context.LoadStringOrNull();

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
