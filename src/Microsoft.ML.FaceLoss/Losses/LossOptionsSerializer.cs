namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>Writes and reads the name and parameters of a loss head.</summary>
internal static class LossOptionsSerializer
{
    private const byte Double = 1, Int32 = 2, Boolean = 3, Text = 4;

    public static void Write(BinaryWriter writer, FaceLossOptions? options)
    {
        writer.Write(options is not null);
        if (options is null) return;
        writer.Write(options.HeadName);
        var parameters = options.GetParameters();
        writer.Write(parameters.Count);
        foreach (var (name, value) in parameters)
        {
            writer.Write(name);
            switch (value)
            {
                case double d: writer.Write(Double); writer.Write(d); break;
                case int i: writer.Write(Int32); writer.Write(i); break;
                case bool b: writer.Write(Boolean); writer.Write(b); break;
                default: writer.Write(Text); writer.Write(value.ToString()!); break;
            }
        }
    }

    public static FaceLossOptions? Read(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) return null;
        var options = FaceLossHeads.CreateOptions(reader.ReadString());
        int count = reader.ReadInt32();
        for (int p = 0; p < count; p++)
        {
            string name = reader.ReadString();
            object value = reader.ReadByte() switch
            {
                Double => reader.ReadDouble(),
                Int32 => reader.ReadInt32(),
                Boolean => reader.ReadBoolean(),
                Text => reader.ReadString(),
                var tag => throw new InvalidDataException($"Unknown parameter type {tag} of loss parameter '{name}'."),
            };
            options.SetParameter(name, value);
        }
        return options;
    }
}
