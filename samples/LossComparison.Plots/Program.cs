using System.Text.Json;
using LossComparison;
using ScottPlot;
using SkiaSharp;

namespace LossComparison.Plots;

/// <summary>
/// <c>LossComparison.Plots results.json outdir</c>: writes features.png (the 2-D features of each
/// head, one panel per head), angles.png (each head's angles of held-out points to their own and to
/// the nearest other class centre) and roc.png (the ROC curves of the heads on unseen identities).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: LossComparison.Plots <results.json> <output folder>");
            return 2;
        }
        var results = JsonSerializer.Deserialize<Results>(File.ReadAllText(args[0]))
            ?? throw new InvalidDataException($"'{args[0]}' holds no results.");
        Directory.CreateDirectory(args[1]);
        if (results.Features.Count > 0)
        {
            string path = Path.Combine(args[1], "features.png");
            DrawFeatures(results, path);
            Console.WriteLine($"Wrote {path}");
            string angles = Path.Combine(args[1], "angles.png");
            DrawAngles(results, angles);
            Console.WriteLine($"Wrote {angles}");
        }
        if (results.Verification.Count > 0)
        {
            string path = Path.Combine(args[1], "roc.png");
            DrawRoc(results, path);
            Console.WriteLine($"Wrote {path}");
        }
        return 0;
    }

    /// <summary>One panel per head: held-out features in the plane, or their directions on the unit circle for normalized heads.</summary>
    private static void DrawFeatures(Results results, string path)
    {
        var palette = new ScottPlot.Palettes.Category10();
        DrawPanels(results, path, (plot, f) =>
        {
            var jitter = new Random(5);
            foreach (int label in f.Label.Distinct().Order())
            {
                var index = Enumerable.Range(0, f.Label.Count).Where(i => f.Label[i] == label).ToArray();
                double[] xs = index.Select(i => (double)f.X[i]).ToArray(), ys = index.Select(i => (double)f.Y[i]).ToArray();
                if (f.OnUnitCircle)
                {
                    // The direction only, on a ring of radius 0.9 to 1.1 so that points of one direction stay visible.
                    for (int k = 0; k < xs.Length; k++)
                    {
                        double angle = Math.Atan2(ys[k], xs[k]), radius = 0.9 + 0.2 * jitter.NextDouble();
                        (xs[k], ys[k]) = (radius * Math.Cos(angle), radius * Math.Sin(angle));
                    }
                }
                var scatter = plot.Add.ScatterPoints(xs, ys);
                scatter.Color = palette.GetColor(label).WithAlpha(0.7);
                scatter.MarkerSize = 3;
            }
            if (f.OnUnitCircle)
            {
                var circle = plot.Add.Circle(0, 0, 1);
                circle.LineColor = Colors.Gray.WithAlpha(0.5);
                circle.FillColor = Colors.Transparent;
                plot.Axes.SetLimits(-1.25, 1.25, -1.25, 1.25);
            }
            else
            {
                // Square limits around the origin keep the radial shape of the features undistorted.
                double extent = 1.1 * f.X.Concat(f.Y).Select(v => Math.Abs((double)v)).DefaultIfEmpty(1).Max();
                plot.Axes.SetLimits(-extent, extent, -extent, extent);
                var origin = plot.Add.Marker(0, 0, MarkerShape.Cross, 8, Colors.Black);
            }
            return $"{f.Head} {(f.OnUnitCircle ? "(angle)" : "(plane)")}";
        });
    }

    /// <summary>One panel per head: histograms of the angle of each held-out point to its own class centre and to the nearest other one.</summary>
    private static void DrawAngles(Results results, string path)
    {
        DrawPanels(results, path, (plot, f) =>
        {
            var g = f.Geometry!;
            const double binWidth = 2.5, maximum = 90;
            AddHistogram(plot, g.OwnAngles, binWidth, maximum, Colors.C0);
            AddHistogram(plot, g.NearestOtherAngles, binWidth, maximum, Colors.C1);
            plot.Add.VerticalLine(g.MedianOwnAngle, 1.5f, Colors.C0);
            plot.Add.VerticalLine(g.MedianNearestOtherAngle, 1.5f, Colors.C1);
            plot.Axes.SetLimitsX(0, maximum);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(new[] { 0.0, 30, 60, 90 }, new[] { "0", "30", "60", "90" });
            plot.Axes.Bottom.TickLabelStyle.IsVisible = true;
            plot.Axes.Bottom.TickLabelStyle.FontSize = 9;
            return $"{f.Head}\ngap {g.AngleGap:F0}°, accuracy {g.NearestCentreAccuracy * 100:0.#}%";
        }, legend: "angle (degrees) of each held-out point to its own class centre (blue) and the nearest other one (orange); lines: medians; > 90 in the last bin");
    }

    private static void AddHistogram(Plot plot, List<double> values, double binWidth, double maximum, Color color)
    {
        int bins = (int)(maximum / binWidth);
        var counts = new double[bins];
        foreach (var v in values) counts[Math.Clamp((int)(v / binWidth), 0, bins - 1)]++;
        var bars = counts.Select((c, i) => new Bar { Position = (i + 0.5) * binWidth, Value = c, Size = binWidth, FillColor = color.WithAlpha(0.55), LineWidth = 0 }).ToList();
        plot.Add.Bars(bars);
    }

    /// <summary>A sheet of square panels, one per head, each drawn by <paramref name="draw"/> (which returns the title); a failed head shows why.</summary>
    private static void DrawPanels(Results results, string path, Func<Plot, FeaturePanel, string> draw, string? legend = null)
    {
        const int panel = 240, legendHeight = 28;
        int columns = (int)Math.Ceiling(Math.Sqrt(results.Features.Count));
        int rows = (int)Math.Ceiling(results.Features.Count / (double)columns);
        int top = legend is null ? 0 : legendHeight;
        using var sheet = new SKBitmap(columns * panel, rows * panel + top);
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.White);
        if (legend is not null)
        {
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            using var font = new SKFont(SKTypeface.Default, 13);
            canvas.DrawText(legend, 8, 19, font, paint);
        }
        for (int k = 0; k < results.Features.Count; k++)
        {
            var f = results.Features[k];
            var plot = new Plot();
            string title = f.Head;
            plot.Axes.Frameless(false);
            plot.HideGrid();
            plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
            plot.Axes.Left.TickLabelStyle.IsVisible = false;
            if (f.Failure is not null || f.Geometry is null)
            {
                var note = plot.Add.Text((f.Failure ?? "no features").Replace(" (", "\n("), 0, 0);
                note.LabelFontSize = 10;
                note.LabelAlignment = Alignment.MiddleCenter;
                plot.Axes.SetLimits(-1, 1, -1, 1);
            }
            else
            {
                title = draw(plot, f);
            }
            plot.Title(title, size: 12);
            using var image = SKBitmap.Decode(plot.GetImageBytes(panel, panel, ImageFormat.Png));
            canvas.DrawBitmap(image, (k % columns) * panel, top + (k / columns) * panel);
        }
        using var data = sheet.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static void DrawRoc(Results results, string path)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category20();
        int i = 0;
        foreach (var v in results.Verification.OrderByDescending(v => v.Auc))
        {
            // FAR on a log axis from 1e-3; points at FAR 0 are drawn at the axis' left end.
            var xs = v.Far.Select(far => Math.Log10(Math.Max(far, 1e-3))).ToArray();
            var line = plot.Add.ScatterLine(xs, v.Tar.ToArray());
            line.Color = palette.GetColor(i++);
            line.LineWidth = 1.5f;
            line.LegendText = $"{v.Head} ({v.Auc:F3})";
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            new[] { -3.0, -2, -1, 0 }, new[] { "1e-3", "1e-2", "1e-1", "1" });
        plot.Axes.SetLimits(-3, 0, 0, 1.02);
        plot.XLabel("false accept rate");
        plot.YLabel("true accept rate");
        plot.Title("Unseen identities: ROC of each head (AUC)", size: 14);
        plot.ShowLegend(Alignment.LowerRight);
        plot.Legend.FontSize = 10;
        plot.SavePng(path, 900, 620);
    }
}
