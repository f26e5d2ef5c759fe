using System.Text.Json;
using Microsoft.ML.FaceLoss.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>The cases of a golden loss file (see ../shared/spec/losses.md) and how to check a head against one.</summary>
public static class GoldenCases
{
    public static JsonDocument Load() => JsonDocument.Parse(File.ReadAllBytes(TestData.GoldenFile));

    /// <summary>(index, head name) of every case, for theories.</summary>
    public static IEnumerable<object[]> All()
    {
        if (!TestData.GoldenAvailable) return new[] { new object[] { -1, "none" } };
        using var document = Load();
        return document.RootElement.GetProperty("cases").EnumerateArray()
            .Select((c, i) => new object[] { i, c.GetProperty("head").GetString()! }).ToList();
    }

    /// <summary>Runs one case in float64 and returns the mismatches (empty when the head matches).</summary>
    public static List<string> Check(int index)
    {
        using var document = Load();
        var root = document.RootElement;
        double relative = root.GetProperty("tolerance").GetProperty("relative").GetDouble();
        double absolute = root.GetProperty("tolerance").GetProperty("absolute").GetDouble();
        var c = root.GetProperty("cases")[index];
        string headName = c.GetProperty("head").GetString()!;

        var options = FaceLossHeads.CreateOptions(headName);
        foreach (var parameter in c.GetProperty("params").EnumerateObject())
            options.SetParameter(parameter.Name, Value(parameter.Value));

        var embeddingRows = Matrix(c.GetProperty("embeddings"));
        bool hasWeight = c.TryGetProperty("weight", out var weightJson) && weightJson.ValueKind == JsonValueKind.Array;
        // A head whose classifier is optional (DeepID2's contrastive loss) runs without one where the case has no W.
        if (!hasWeight && options.GetParameters().Any(p => p.Key == "classifier")) options.SetParameter("classifier", false);
        var labels = c.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()).ToArray();
        var weightRows = hasWeight ? Matrix(weightJson) : null;
        int dimension = embeddingRows[0].Length;
        int classCount = hasWeight ? weightRows!.Length / options.RowsPerClass : (int)labels.Max() + 1;

        using var scope = NewDisposeScope();
        using var head = options.CreateHead(classCount, dimension, ScalarType.Float64);
        var x = tensor(embeddingRows.SelectMany(r => r).ToArray(), new long[] { embeddingRows.Length, dimension }, ScalarType.Float64).requires_grad_(true);
        var y = tensor(labels);
        if (hasWeight)
        {
            if (head.Weight is null) return new List<string> { $"{headName} has no class weights but the case gives some" };
            head.SetWeight(tensor(weightRows!.SelectMany(r => r).ToArray(), new long[] { weightRows!.Length, dimension }, ScalarType.Float64));
        }
        foreach (var state in c.GetProperty("state").EnumerateObject())
        {
            if (!head.State.TryGetValue(state.Name, out var buffer)) return new List<string> { $"{headName} has no state '{state.Name}'" };
            using (no_grad()) buffer.copy_(StateTensor(state.Value, buffer));
        }

        head.train();
        var loss = head.forward(x, y);
        loss.backward();

        var problems = new List<string>();
        Compare("loss", new[] { loss.ToDouble() }, new[] { c.GetProperty("loss").GetDouble() }, relative, absolute, problems);
        Compare("grad_embeddings", Flat(x.grad!), Matrix(c.GetProperty("grad_embeddings")).SelectMany(r => r).ToArray(), relative, absolute, problems);
        if (c.TryGetProperty("grad_weight", out var gradWeight) && gradWeight.ValueKind == JsonValueKind.Array)
            Compare("grad_weight", Flat(head.Weight!.grad!), Matrix(gradWeight).SelectMany(r => r).ToArray(), relative, absolute, problems);
        if (c.TryGetProperty("state_after", out var after))
        {
            foreach (var state in after.EnumerateObject())
            {
                var expected = state.Value.ValueKind == JsonValueKind.Array ? Matrix(state.Value).SelectMany(r => r).ToArray() : new[] { state.Value.GetDouble() };
                Compare("state " + state.Name, Flat(head.State[state.Name]), expected, relative, absolute, problems);
            }
        }
        return problems;
    }

    private static object Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => value.GetString()!,
        _ => value.GetDouble(),
    };

    private static Tensor StateTensor(JsonElement value, Tensor like)
        => value.ValueKind == JsonValueKind.Array
            ? tensor(Matrix(value).SelectMany(r => r).ToArray(), like.shape, ScalarType.Float64).to(like.dtype)
            : full(like.shape, value.GetDouble(), ScalarType.Float64).to(like.dtype);

    private static double[][] Matrix(JsonElement rows)
        => rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static double[] Flat(Tensor t) => t.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static void Compare(string what, double[] actual, double[] expected, double relative, double absolute, List<string> problems)
    {
        if (actual.Length != expected.Length)
        {
            problems.Add($"{what}: {actual.Length} values, {expected.Length} expected");
            return;
        }
        for (int i = 0; i < actual.Length; i++)
        {
            double tolerance = Math.Max(absolute, relative * Math.Abs(expected[i]));
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
            {
                problems.Add($"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R}");
                if (problems.Count > 8) return;
            }
        }
    }
}
