using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>Turns the JSON lines of accuracy runs into the markdown table of the README.</summary>
internal static class ResultsTable
{
    public static string Markdown(IEnumerable<string> jsonLines)
    {
        var rows = jsonLines.Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => (string?)o["benchmark"] == "accuracy").ToList();
        var text = new StringBuilder();
        text.AppendLine("| data set | head | backbone, input, D | epochs | train s | accuracy | AUC | EER | TAR@FAR=1e-2 | flip-test accuracy | P@1 | MAP@R | command |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        // Grouped by data set, then by budget (the full runs before the comparison runs), best first.
        foreach (var o in rows.OrderBy(o => Order((string)o["dataset"]!)).ThenByDescending(o => (int)o["width"]! * (int)o["epochs"]!)
                     .ThenByDescending(o => (double)o["metrics"]!["accuracy"]!))
        {
            var m = o["metrics"]!;
            string Percent(JsonNode? value) => value is null ? "" : ((double)value).ToString("P1", CultureInfo.InvariantCulture);
            string Number(JsonNode? value) => value is null ? "" : ((double)value).ToString("F3", CultureInfo.InvariantCulture);
            string dataset = (string)o["dataset"]!, head = (string)o["head"]!;
            text.AppendLine(string.Join(" | ", new[]
            {
                "| " + dataset, $"{head} `{o["head_settings"]}`", $"{o["backbone"]} w{o["width"]}, {o["image"]}, {o["embedding"]}", $"{o["epochs"]}",
                $"{(double)o["seconds"]!:F0}", $"{Percent(m["accuracy"])} ± {Percent(m["accuracy_std"])}", Number(m["auc"]), Percent(m["eer"]),
                Percent(m["tar_at_far_1e-2"]), Percent(o["metrics_flip_test"]?["accuracy"]), Number(m["precision_at_1"]), Number(m["map_at_r"]),
                $"`{(string?)o["command"] ?? $"accuracy --dataset {dataset} --head {head}{Flag(dataset, head, (string)o["head_settings"]!)}"}` |",
            }));
        }
        return text.ToString();
    }

    /// <summary>For lines written before the JSON carried its command: the flag that chose the head's settings.</summary>
    private static string Flag(string dataset, string head, string settings)
    {
        // Parsed, so that parameters added since (at their defaults) do not change the answer.
        string parsed = FaceLossOptions.Parse(settings).ToString();
        bool spec = parsed == FaceLossHeads.CreateOptions(head).ToString();
        bool small = parsed == FaceLossHeads.CreateSmallDataOptions(head).ToString();
        return dataset == "lfw" ? (spec ? "" : small ? " --small-data-head" : "") : (small ? "" : spec ? " --spec-head" : "");
    }

    /// <summary>The data sets in the order of <see cref="AccuracyBenchmark.Datasets"/>, others (LFW pairs.txt) after them.</summary>
    private static int Order(string dataset) => Array.IndexOf(AccuracyBenchmark.Datasets, dataset) is >= 0 and var i ? i : int.MaxValue;
}
