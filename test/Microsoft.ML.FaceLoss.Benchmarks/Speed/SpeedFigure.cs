using System.Text.Json.Nodes;

namespace Microsoft.ML.FaceLoss.Benchmarks.Speed;

/// <summary>Whether a larger or a smaller value of a figure is better.</summary>
internal enum Better
{
    /// <summary>Throughput: images per second.</summary>
    Higher,

    /// <summary>Time or memory.</summary>
    Lower,
}

/// <summary>
/// One printed figure of the speed benchmark: our measurement beside its reference, measured in the
/// same process in alternating rounds, their ratio (the median of the paired runs' ratios) and the
/// target the ratio is held to.
/// </summary>
internal static class SpeedFigure
{
    /// <param name="figure">What is measured, e.g. "training IResNet18".</param>
    /// <param name="unit">The unit of both measurements.</param>
    /// <param name="better">Whether higher or lower values are better.</param>
    /// <param name="ours">Our measurement.</param>
    /// <param name="reference">The reference measurement (or null for a figure without one).</param>
    /// <param name="referenceWhat">What the reference does.</param>
    /// <param name="target">The target of the ratio ours / reference: at least this for <see cref="Better.Higher"/>, at most this for <see cref="Better.Lower"/>; null: none.</param>
    /// <param name="absoluteLimit">A limit on our median itself (at most, for <see cref="Better.Lower"/>), or null.</param>
    /// <param name="settings">The settings of the measurement.</param>
    public static JsonObject Make(string figure, string unit, Better better, Measurement ours, Measurement? reference, string? referenceWhat,
        double? target, double? absoluteLimit, JsonObject settings)
    {
        var line = new JsonObject
        {
            ["benchmark"] = "speed",
            ["figure"] = figure,
            ["unit"] = unit,
            ["better"] = better == Better.Higher ? "higher" : "lower",
            ["ours"] = Stats(ours),
        };
        bool meets = true;
        if (reference is not null)
        {
            var stats = Stats(reference);
            stats["what"] = referenceWhat;
            line["reference"] = stats;
            double ratio = Measurement.PairedRatio(ours, reference);
            line["ratio"] = Math.Round(ratio, 3);
            line["ratio_is"] = ours.Count == reference.Count && ours.Count > 1 ? "the median of the ratios of the paired runs" : "ours / reference";
            if (target is { } t)
            {
                line["target"] = (better == Better.Higher ? ">= " : "<= ") + t.ToString(System.Globalization.CultureInfo.InvariantCulture);
                meets &= better == Better.Higher ? ratio >= t : ratio <= t;
            }
        }
        if (absoluteLimit is { } limit)
        {
            line["limit"] = $"<= {limit.ToString(System.Globalization.CultureInfo.InvariantCulture)} {unit}";
            meets &= ours.Median <= limit;
        }
        if (target is not null || absoluteLimit is not null) line["meets_target"] = meets;
        line["settings"] = settings;
        line["machine"] = MachineInfo.Describe();
        line["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return line;
    }

    private static JsonObject Stats(Measurement m) => new()
    {
        ["median"] = Round(m.Median),
        ["min"] = Round(m.Min),
        ["max"] = Round(m.Max),
        ["runs"] = m.Count,
    };

    /// <summary>Four significant digits.</summary>
    public static double Round(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value;
        int digits = Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 15);
        return Math.Round(value, digits);
    }
}
