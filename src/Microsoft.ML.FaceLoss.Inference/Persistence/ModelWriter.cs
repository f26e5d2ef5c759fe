using System.Text;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// What a transformer writes its entry of an ML.NET model file with. The entry's content (numbers and
/// strings) is gathered and written, when the transformer is done, in the checksummed container of
/// <see cref="ModelStreamFormat"/>, so that a damaged byte is found at load; large parts go into named
/// streams beside the entry, each in the same container. Wraps ML.NET's internal <c>ModelSaveContext</c>.
/// </summary>
internal sealed class ModelWriter
{
    private const int ContentVersion = 1;
    private readonly ModelSaveContext _context;
    private readonly MemoryStream _content = new();

    public ModelWriter(ModelSaveContext context)
    {
        _context = context;
        Writer = new BinaryWriter(_content, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>The entry's content.</summary>
    public BinaryWriter Writer { get; }

    /// <summary>Writes a non-empty string (a column name, for example).</summary>
    public void WriteString(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Writer.Write(value);
    }

    /// <summary>Writes a string that may be null.</summary>
    public void WriteStringOrNull(string? value)
    {
        Writer.Write(value is not null);
        if (value is not null) Writer.Write(value);
    }

    /// <summary>Writes the named stream beside the entry: <paramref name="write"/>'s bytes with format <paramref name="version"/>, length and SHA-256.</summary>
    public void WriteStream(string name, int version, Action<BinaryWriter> write)
        => _context.SaveBinaryStream(name, writer => ModelStreamFormat.Write(writer, version, write));

    /// <summary>Writes the gathered content into the entry, checksummed.</summary>
    public void Finish()
    {
        Writer.Flush();
        byte[] content = _content.ToArray();
        ModelStreamFormat.Write(_context.Writer, ContentVersion, w => w.Write(content));
    }
}
