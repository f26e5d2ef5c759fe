namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// What a transformer writes its entry of an ML.NET model file with: the entry's binary writer,
/// strings as ML.NET stores them, and named binary streams in the checksummed container of
/// <see cref="ModelStreamFormat"/>. Wraps ML.NET's internal <c>ModelSaveContext</c>.
/// </summary>
internal sealed class ModelWriter
{
    private readonly ModelSaveContext _context;

    public ModelWriter(ModelSaveContext context) => _context = context;

    /// <summary>The entry's own binary content.</summary>
    public BinaryWriter Writer => _context.Writer;

    /// <summary>Writes a non-empty string (a column name, for example).</summary>
    public void WriteString(string value) => _context.SaveNonEmptyString(value);

    /// <summary>Writes a string that may be null.</summary>
    public void WriteStringOrNull(string? value) => _context.SaveStringOrNull(value);

    /// <summary>Writes the named stream beside the entry: <paramref name="write"/>'s bytes with format <paramref name="version"/>, length and SHA-256.</summary>
    public void WriteStream(string name, int version, Action<BinaryWriter> write)
        => _context.SaveBinaryStream(name, writer => ModelStreamFormat.Write(writer, version, write));
}
