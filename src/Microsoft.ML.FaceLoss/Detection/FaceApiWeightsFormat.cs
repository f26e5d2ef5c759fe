using Microsoft.ML.FaceLoss.Backbones;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// face-api weights inside a model file, so that a saved model needs no model folder to load:
/// the tensor count, then for each its name, rank, dimensions and float32 values. The entry around
/// it is checksummed by the model's stream format.
/// </summary>
internal static class FaceApiWeightsFormat
{
    private const int MaxTensors = 10_000;
    private const long MaxValues = 100_000_000;

    public static void Write(BinaryWriter writer, IReadOnlyDictionary<string, TensorFlowJsTensor> weights)
    {
        writer.Write(weights.Count);
        foreach (var t in weights.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            writer.Write(t.Name);
            writer.Write(t.Shape.Length);
            foreach (int d in t.Shape) writer.Write(d);
            writer.Write(t.Values.Length);
            var bytes = new byte[t.Values.Length * 4];
            Buffer.BlockCopy(t.Values, 0, bytes, 0, bytes.Length);
            writer.Write(bytes);
        }
    }

    public static IReadOnlyDictionary<string, TensorFlowJsTensor> Read(BinaryReader reader, string what)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > MaxTensors) throw new InvalidDataException($"The {what} claims {count} weight tensors; the entry is damaged.");
        var result = new Dictionary<string, TensorFlowJsTensor>(StringComparer.Ordinal);
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            int rank = reader.ReadInt32();
            if (rank < 0 || rank > 8) throw new InvalidDataException($"The {what}'s tensor '{name}' claims rank {rank}; the entry is damaged.");
            var shape = new int[rank];
            long elements = 1;
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.ReadInt32();
                if (shape[d] < 0) throw new InvalidDataException($"The {what}'s tensor '{name}' has a negative dimension; the entry is damaged.");
                elements *= shape[d];
            }
            int length = reader.ReadInt32();
            total += length;
            if (length != elements || total > MaxValues)
                throw new InvalidDataException($"The {what}'s tensor '{name}' has {length} values for shape [{string.Join(", ", shape)}]; the entry is damaged.");
            var bytes = reader.ReadBytes(length * 4);
            if (bytes.Length != length * 4) throw new InvalidDataException($"The {what} ends inside tensor '{name}'; the entry is truncated.");
            var values = new float[length];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            if (!result.TryAdd(name, new TensorFlowJsTensor(name, shape, values)))
                throw new InvalidDataException($"The {what} names tensor '{name}' twice; the entry is damaged.");
        }
        return result;
    }
}
