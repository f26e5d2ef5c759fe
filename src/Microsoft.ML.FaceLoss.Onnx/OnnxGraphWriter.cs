using Google.Protobuf;
using Microsoft.ML.FaceLoss.Backbones.Export;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Onnx;

/// <summary>
/// Writes TorchSharp modules as ONNX nodes (opset <see cref="Opset"/>) into one graph. Weights become
/// initializers, shared where one module is written twice (the flip test). The rank of every value is
/// tracked, because a PReLU slope must be shaped to broadcast over N x C x H x W ([C, 1, 1]) and a
/// Linear layer needs N x K.
/// </summary>
internal sealed class OnnxGraphWriter : IGraphWriter
{
    /// <summary>The operator set the graph is written for: 13 (ReduceL2 takes its axes as an attribute up to 17).</summary>
    public const long Opset = 13;

    private readonly GraphProto _graph;
    private readonly Dictionary<string, int> _ranks = new();
    private readonly Dictionary<Tensor, string> _initializers = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<string> _path = new();
    private int _nodes;

    public OnnxGraphWriter(GraphProto graph) => _graph = graph;

    /// <summary>Declares a value's rank (a graph input's).</summary>
    public void SetRank(string value, int rank) => _ranks[value] = rank;

    private string Path => _path.Count == 0 ? "the network" : string.Join("/", _path.Reverse());

    public string Write(nn.Module module, string input)
    {
        switch (module)
        {
            case IExportableModule exportable:
                return Within(module.GetName(), () => exportable.WriteGraph(this, input));
            case Sequential sequential:
                string x = input;
                foreach (var (name, child) in sequential.named_children())
                    x = Within(name, () => Write(child, x));
                return x;
            case Conv2d conv: return Conv(conv, input);
            case BatchNorm1d norm: return BatchNorm(norm, input, 2);
            case BatchNorm2d norm: return BatchNorm(norm, input, 4);
            case PReLU prelu: return PRelu(prelu, input);
            case Linear linear: return Gemm(linear, input);
            case Dropout: return input;         // inference: the identity
            case Identity: return input;
            case TorchSharp.Modules.Flatten flatten:
                if (flatten.start_dim != 1 || flatten.end_dim != -1)
                    throw Unsupported(module, $"only Flatten(1, -1) is written (this one flattens dimensions {flatten.start_dim} to {flatten.end_dim})");
                return Flatten(input);
            case MaxPool2d pool: return MaxPool(pool, input);
            default:
                throw Unsupported(module, "it is no standard layer the exporter writes (Conv2d, BatchNorm1d/2d, PReLU, Linear, Dropout, Flatten, MaxPool2d, Identity, Sequential) and no network of this library");
        }
    }

    public string Add(string left, string right) => Node("Add", new[] { left, right }, Rank(left));

    public string Flatten(string input)
    {
        var node = NewNode("Flatten", new[] { input }, out string output, 2);
        node.Attribute.Add(Int("axis", 1));
        return output;
    }

    /// <summary>Adds a node with one output of rank <paramref name="rank"/>; returns the output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, int rank, params AttributeProto[] attributes)
    {
        var node = NewNode(opType, inputs, out string output, rank);
        node.Attribute.AddRange(attributes);
        return output;
    }

    /// <summary>A float initializer of the given shape (a 0-d scalar for an empty shape).</summary>
    public string Constant(string name, float[] values, params long[] shape)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(shape);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        tensor.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 initializer (shapes, slice bounds).</summary>
    public string Int64Constant(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private string Conv(Conv2d conv, string input)
    {
        RequireRank(conv, input, 4);
        if (conv.padding_mode != PaddingModes.Zeros)
            throw Unsupported(conv, $"its padding mode {conv.padding_mode} is not zero padding");
        var weight = conv.weight;
        long kh = weight.shape[2], kw = weight.shape[3];
        long[] dilation = Pair(conv.dilation);
        long[] padding;
        if (conv.padding is { } explicitPadding) padding = Pair(explicitPadding);
        else if (conv.padding_type == TorchSharp.Padding.Valid) padding = new long[] { 0, 0 };
        else if ((dilation[0] * (kh - 1)) % 2 == 0 && (dilation[1] * (kw - 1)) % 2 == 0)
            padding = new[] { dilation[0] * (kh - 1) / 2, dilation[1] * (kw - 1) / 2 };   // 'same' with symmetric padding
        else throw Unsupported(conv, "its 'same' padding is not symmetric");
        var inputs = new List<string> { input, Weight(weight, "weight") };
        if (conv.bias is { } bias) inputs.Add(Weight(bias, "bias"));
        return Node("Conv", inputs, 4,
            Ints("kernel_shape", new[] { kh, kw }),
            Ints("strides", Pair(conv.stride)),
            Ints("pads", new[] { padding[0], padding[1], padding[0], padding[1] }),
            Ints("dilations", dilation),
            Int("group", conv.groups));
    }

    private string BatchNorm(NormBase norm, string input, int rank)
    {
        RequireRank(norm, input, rank);
        if (norm.running_mean is not { } mean || norm.running_var is not { } variance)
            throw Unsupported(norm, "it keeps no running statistics (track_running_stats = false)");
        long channels = norm.num_features;
        string scale = norm.weight is { } weight ? Weight(weight, "weight") : Constant(UniqueName("ones"), Enumerable.Repeat(1f, (int)channels).ToArray(), channels);
        string shift = norm.bias is { } bias ? Weight(bias, "bias") : Constant(UniqueName("zeros"), new float[channels], channels);
        return Node("BatchNormalization", new[] { input, scale, shift, Weight(mean, "running_mean"), Weight(variance, "running_var") }, rank,
            Float("epsilon", (float)norm.eps));
    }

    private string PRelu(PReLU prelu, string input)
    {
        int rank = Rank(input);
        long count = prelu.weight.numel();
        // The slope broadcasts from the right: one per channel of N x C x ... is C x 1 x ... x 1.
        long[] shape = count == 1 ? new long[] { 1 } : new[] { count }.Concat(Enumerable.Repeat(1L, rank - 2)).ToArray();
        return Node("PRelu", new[] { input, Weight(prelu.weight, "weight", shape) }, rank);
    }

    private string Gemm(Linear linear, string input)
    {
        RequireRank(linear, input, 2);
        var inputs = new List<string> { input, Weight(linear.weight, "weight") };
        if (linear.bias is { } bias) inputs.Add(Weight(bias, "bias"));
        // Gemm with transB = 1 takes TorchSharp's [out, in] weight as it is.
        return Node("Gemm", inputs, 2, Int("transB", 1));
    }

    private string MaxPool(MaxPool2d pool, string input)
    {
        RequireRank(pool, input, 4);
        long[] kernel = Pair(pool.kernel_size);
        long[] padding = pool.padding is { Length: > 0 } p ? Pair(p) : new long[] { 0, 0 };
        return Node("MaxPool", new[] { input }, 4,
            Ints("kernel_shape", kernel),
            Ints("strides", pool.stride is { Length: > 0 } s ? Pair(s) : kernel),
            Ints("pads", new[] { padding[0], padding[1], padding[0], padding[1] }),
            Ints("dilations", pool.dilation is { Length: > 0 } d ? Pair(d) : new long[] { 1, 1 }),
            Int("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    /// <summary>
    /// The initializer of a weight, written once however often its module is written (a weight always
    /// takes the same shape: a PReLU slope follows the rank of its module's input, which does not change).
    /// </summary>
    private string Weight(Tensor tensor, string role, long[]? shape = null)
    {
        if (_initializers.TryGetValue(tensor, out var existing)) return existing;
        float[] values;
        using (no_grad())
        using (var scope = NewDisposeScope())
            values = tensor.detach().to(float32).cpu().contiguous().data<float>().ToArray();
        string name = Constant(UniqueName($"{Path}.{role}"), values, shape ?? tensor.shape);
        _initializers[tensor] = name;
        return name;
    }

    private NodeProto NewNode(string opType, IEnumerable<string> inputs, out string output, int rank)
    {
        int index = _nodes++;
        output = $"{opType}_{index}";
        var node = new NodeProto { OpType = opType, Name = $"{Path}/{opType}_{index}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        _graph.Node.Add(node);
        _ranks[output] = rank;
        return node;
    }

    private readonly HashSet<string> _names = new();

    private string UniqueName(string name)
    {
        string unique = name;
        for (int i = 1; !_names.Add(unique); i++) unique = $"{name}_{i}";
        return unique;
    }

    private T Within<T>(string name, Func<T> write)
    {
        _path.Push(name);
        try { return write(); }
        finally { _path.Pop(); }
    }

    private int Rank(string value) => _ranks.TryGetValue(value, out int rank) ? rank
        : throw new InvalidOperationException($"The value '{value}' has no known rank.");

    private void RequireRank(nn.Module module, string input, int rank)
    {
        if (Rank(input) != rank)
            throw Unsupported(module, $"it receives a value of rank {Rank(input)} where the exporter writes it for rank {rank}");
    }

    private static long[] Pair(long[] values) => values.Length switch
    {
        1 => new[] { values[0], values[0] },
        2 => values,
        _ => throw new NotSupportedException($"Expected one or two values, got {values.Length}."),
    };

    private NotSupportedException Unsupported(nn.Module module, string why)
        => new($"The module {Path}/{module.GetName()} ({module.GetType().FullName}) cannot be exported to ONNX: {why}. " +
               "A custom backbone exports when it is built of those layers (in Sequential containers); otherwise deploy it with TorchSharp.");
}
