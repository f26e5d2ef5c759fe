using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>The README's speed table from the JSON lines of <c>speed</c>: the last line of each figure.</summary>
internal static class SpeedTable
{
    public static string Markdown(IEnumerable<string> jsonLines)
    {
        var latest = new Dictionary<string, JsonObject>();
        foreach (var text in jsonLines.Where(l => l.TrimStart().StartsWith('{')))
        {
            if (JsonNode.Parse(text) is JsonObject line && line["benchmark"]?.GetValue<string>() == "speed" && line["ours"] is not null)
                latest[line["figure"]!.GetValue<string>()] = line;
        }
        var table = new StringBuilder();
        table.AppendLine("| figure | ours: median (min - max) | reference: median (min - max) | ratio | target | met |");
        table.AppendLine("|---|---|---|---|---|---|");
        foreach (var line in latest.Values)
        {
            string unit = line["unit"]!.GetValue<string>();
            string reference = line["reference"] is JsonObject r ? $"{Stats(r, unit)}: {r["what"]}" : "";
            string target = string.Join(", ", new[] { line["target"]?.GetValue<string>(), line["limit"]?.GetValue<string>() }.Where(t => t is not null));
            string met = line["meets_target"] is { } m ? (m.GetValue<bool>() ? "yes" : "**no**") : "";
            table.AppendLine($"| {line["figure"]} | {Stats((JsonObject)line["ours"]!, unit)}{P99(line, "ours_p99", unit)} | {reference}{P99(line, "reference_p99", unit)} | {line["ratio"]?.ToString() ?? ""} | {target} | {met} |");
        }
        return table.ToString();
    }

    private static string Stats(JsonObject s, string unit)
    {
        string Format(string name) => s[name]!.GetValue<double>().ToString("0.####", CultureInfo.InvariantCulture);
        return s["runs"]!.GetValue<int>() == 1 ? $"{Format("median")} {unit}" : $"{Format("median")} {unit} ({Format("min")} - {Format("max")})";
    }

    private static string P99(JsonObject line, string name, string unit)
        => line[name] is { } p ? $", p99 {p.GetValue<double>().ToString("0.###", CultureInfo.InvariantCulture)} {unit}" : "";
}
