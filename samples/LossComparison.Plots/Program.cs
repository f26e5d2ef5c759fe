using System.Text.Json;
using LossComparison;
using ScottPlot;
using SkiaSharp;

namespace LossComparison.Plots;

/// <summary>
/// <c>LossComparison.Plots results.json outdir</c>: writes features.png (the 2-D features of each
/// head, one panel per head) and roc.png (the ROC curves of the heads on unseen identities).
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
        }
        if (results.Verification.Count > 0)
        {
            string path = Path.Combine(args[1], "roc.png");
            DrawRoc(results, path);
            Console.WriteLine($"Wrote {path}");
        }
        return 0;
    }

    private static void DrawFeatures(Results results, string path)
    {
        const int panel = 240;
        int columns = (int)Math.Ceiling(Math.Sqrt(results.Features.Count));
        int rows = (int)Math.Ceiling(results.Features.Count / (double)columns);
        var palette = new ScottPlot.Palettes.Category10();
        using var sheet = new SKBitmap(columns * panel, rows * panel);
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.White);
        for (int k = 0; k < results.Features.Count; k++)
        {
            var f = results.Features[k];
            var plot = new Plot();
            foreach (int label in f.Label.Distinct().Order())
            {
                var index = Enumerable.Range(0, f.Label.Count).Where(i => f.Label[i] == label).ToArray();
                var scatter = plot.Add.ScatterPoints(index.Select(i => (double)f.X[i]).ToArray(), index.Select(i => (double)f.Y[i]).ToArray());
                scatter.Color = palette.GetColor(label).WithAlpha(0.7);
                scatter.MarkerSize = 3;
            }
            plot.Title(f.Head, size: 13);
            if (f.Failure is not null)
            {
                var note = plot.Add.Text(f.Failure.Replace(" (", "\n("), 0, 0);
                note.LabelFontSize = 10;
                note.LabelAlignment = Alignment.MiddleCenter;
                plot.Axes.SetLimits(-1, 1, -1, 1);
            }
            plot.Axes.Frameless(false);
            plot.HideGrid();
            plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
            plot.Axes.Left.TickLabelStyle.IsVisible = false;
            using var image = SKBitmap.Decode(plot.GetImageBytes(panel, panel, ImageFormat.Png));
            canvas.DrawBitmap(image, (k % columns) * panel, (k / columns) * panel);
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
