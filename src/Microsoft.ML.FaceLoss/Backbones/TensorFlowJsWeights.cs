using System.Text.Json;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>One named tensor of a TensorFlow.js model: its shape (as stored) and its float values.</summary>
internal sealed record TensorFlowJsTensor(string Name, int[] Shape, float[] Values);

/// <summary>
/// Reads TensorFlow.js weight files (the format of face-api.js models): a <c>*-weights_manifest.json</c>
/// lists groups of binary shards (read in order and concatenated) and the tensors they hold, each
/// float32 or quantized to uint8/uint16 (value = stored * scale + min).
/// </summary>
internal static class TensorFlowJsWeights
{
    /// <summary>Every tensor of the model whose manifest is <paramref name="manifestPath"/>, by name.</summary>
    public static IReadOnlyDictionary<string, TensorFlowJsTensor> Read(string manifestPath)
    {
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"The TensorFlow.js weights manifest '{manifestPath}' does not exist; point the model folder at a copy of face-api's model/ folder.", manifestPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(File.ReadAllBytes(manifestPath)).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{manifestPath}' is not a TensorFlow.js weights manifest: {e.Message}", e);
        }
        if (root.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"'{manifestPath}' is not a TensorFlow.js weights manifest: the top level is not an array of weight groups.");

        var tensors = new Dictionary<string, TensorFlowJsTensor>(StringComparer.Ordinal);
        foreach (var group in root.EnumerateArray())
        {
            var bytes = new MemoryStream();
            foreach (var shard in group.GetProperty("paths").EnumerateArray())
            {
                string path = Path.Combine(folder, shard.GetString() ?? "");
                if (!File.Exists(path))
                    throw new FileNotFoundException($"The weight shard '{path}' named by '{manifestPath}' does not exist.", path);
                using var file = File.OpenRead(path);
                file.CopyTo(bytes);
            }
            var data = bytes.ToArray();
            int offset = 0;
            foreach (var weight in group.GetProperty("weights").EnumerateArray())
            {
                string name = weight.GetProperty("name").GetString() ?? "";
                var shape = weight.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                int count = shape.Aggregate(1, (a, b) => checked(a * b));
                var values = new float[count];
                if (weight.TryGetProperty("quantization", out var quantization))
                {
                    string dtype = quantization.GetProperty("dtype").GetString() ?? "";
                    float scale = quantization.GetProperty("scale").GetSingle(), min = quantization.GetProperty("min").GetSingle();
                    int size = dtype switch
                    {
                        "uint8" => 1,
                        "uint16" => 2,
                        _ => throw new InvalidDataException($"'{manifestPath}': tensor '{name}' is quantized to {dtype}; only uint8 and uint16 are supported."),
                    };
                    Need(data, offset, count * size, name, manifestPath);
                    for (int i = 0; i < count; i++)
                    {
                        int stored = size == 1 ? data[offset + i] : BitConverter.ToUInt16(data, offset + 2 * i);
                        values[i] = stored * scale + min;
                    }
                    offset += count * size;
                }
                else
                {
                    string dtype = weight.GetProperty("dtype").GetString() ?? "";
                    if (dtype != "float32")
                        throw new InvalidDataException($"'{manifestPath}': tensor '{name}' has dtype {dtype}; only float32 is supported.");
                    Need(data, offset, count * 4, name, manifestPath);
                    Buffer.BlockCopy(data, offset, values, 0, count * 4);
                    offset += count * 4;
                }
                if (!tensors.TryAdd(name, new TensorFlowJsTensor(name, shape, values)))
                    throw new InvalidDataException($"'{manifestPath}' names the tensor '{name}' twice.");
            }
            if (offset != data.Length)
                throw new InvalidDataException($"The shards of '{manifestPath}' hold {data.Length:N0} bytes but its tensors use {offset:N0}: the files do not belong together.");
        }
        return tensors;
    }

    /// <summary>
    /// The tensor <paramref name="name"/> of face-api's model <paramref name="model"/>, checked to have
    /// <paramref name="shape"/>; the message names the model and the tensor.
    /// </summary>
    public static TensorFlowJsTensor Take(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string model, string name, params int[] shape)
    {
        if (!weights.TryGetValue(name, out var t))
            throw new InvalidDataException($"The {model} weights have no tensor '{name}'; they are not face-api's {model}.");
        if (!t.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"The {model} tensor '{name}' has shape [{string.Join(", ", t.Shape)}], [{string.Join(", ", shape)}] expected.");
        return t;
    }

    private static void Need(byte[] data, int offset, int length, string name, string manifestPath)
    {
        if (offset + length > data.Length)
            throw new InvalidDataException($"The shards of '{manifestPath}' end before tensor '{name}' ({data.Length:N0} bytes, {offset + length:N0} needed): a shard is truncated.");
    }
}
