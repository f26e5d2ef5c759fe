using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Transforms.Image;

namespace LossComparison;

/// <summary>What the comparison runs on and how long it trains.</summary>
public sealed record ComparisonOptions
{
    /// <summary>Where results.json, results.md and the PNGs go.</summary>
    public string Output { get; init; } = Path.GetFullPath("loss-comparison");

    /// <summary>A folder of MNIST-format IDX files (MNIST, Fashion-MNIST); null for synthetic faces.</summary>
    public string? Idx { get; init; }

    /// <summary>A folder with one sub-folder of images per identity; null for synthetic faces.</summary>
    public string? Data { get; init; }

    /// <summary>The heads to compare; null for all.</summary>
    public IReadOnlyList<string>? Heads { get; init; }

    /// <summary>Epochs of each 2-D network. Default: 40 (with 60 images per class every head separates the ten classes by then).</summary>
    public int FeatureEpochs { get; init; } = 40;

    /// <summary>Training images per class of the 2-D picture. Default: 60.</summary>
    public int FeatureImagesPerClass { get; init; } = 60;

    /// <summary>Held-out images per class of the 2-D picture: the points drawn and measured. Default: 20.</summary>
    public int FeatureHeldOutPerClass { get; init; } = 20;

    /// <summary>The side of the 2-D picture's grey images, pixels (synthetic faces and folders; IDX files keep theirs). Default: 28.</summary>
    public int FeatureImageSize { get; init; } = 28;

    /// <summary>LeNet++'s first-stage width in the 2-D picture (the paper's: 32). Default: 16.</summary>
    public int FeatureWidth { get; init; } = 16;

    /// <summary>The batch size of the 2-D networks. Default: 32.</summary>
    public int FeatureBatchSize { get; init; } = 32;

    /// <summary>How much synthetic images of one class vary in the 2-D picture (ten classes in two dimensions need an easier set). Default: 0.5.</summary>
    public double FeatureVariation { get; init; } = 0.5;

    public int CompareEpochs { get; init; } = 10;

    public int TrainingIdentities { get; init; } = 40;

    public int UnseenIdentities { get; init; } = 20;

    public int ImagesPerIdentity { get; init; } = 10;

    public int ImageSize { get; init; } = 32;

    /// <summary>Whether the PNGs are drawn (by the LossComparison.Plots tool).</summary>
    public bool Plot { get; init; } = true;
}

/// <summary>
/// Trains every head on the same data and writes (a) the 2-D LeNet++ features of ten classes, one
/// panel per head, and (b) a table and ROC curves of the heads verifying identities never seen.
/// </summary>
public static class LossComparisonApp
{
    /// <summary>One image: planar pixels in [-1, 1] and its class or identity.</summary>
    public sealed record Sample(float[] Pixels, string Label);

    /// <summary>Images of one shape.</summary>
    public sealed record LabelledSet(List<Sample> Samples, int Channels, int Height, int Width);

    public static Results Run(ComparisonOptions options, TextWriter log)
    {
        Directory.CreateDirectory(options.Output);
        var ml = new MLContext(seed: 1);
        var heads = options.Heads ?? FaceLossHeads.Names.ToList();
        string source = options.Idx is not null ? $"IDX files in {options.Idx}" : options.Data is not null ? $"images in {options.Data}" : "synthetic faces";
        var results = new Results { Data = source };

        // (a) Ten classes in 2-D.
        results.FeatureSetup = $"LeNet++ with a BatchNorm1d on its 2-D output (width {options.FeatureWidth}), " +
            $"{options.FeatureImagesPerClass} training and {options.FeatureHeldOutPerClass} held-out images of each of 10 classes, " +
            $"{options.FeatureEpochs} epochs, batch {options.FeatureBatchSize}, learning rate {FeatureSettings.RawFeatureLearningRate:G3} (raw features) or {FeatureSettings.NormalizedFeatureLearningRate:G3} (normalized)";
        log.WriteLine($"(a) {results.FeatureSetup}, {source}.");
        var (tenClasses, heldOut) = TenClasses(ml, options);
        foreach (var head in heads)
        {
            var clock = Stopwatch.StartNew();
            var panel = TwoDimensionalFeatures(ml, head, tenClasses, heldOut, options);
            results.Features.Add(panel);
            log.WriteLine(panel.Failure is not null ? $"  {head}: {panel.Failure}" :
                $"  {head}: nearest-centre accuracy {panel.Geometry!.NearestCentreAccuracy:P1} ({panel.Geometry.Space}), median angle to own centre {panel.Geometry.MedianOwnAngle:F1} deg, " +
                $"to nearest other {panel.Geometry.MedianNearestOtherAngle:F1} deg, {clock.Elapsed.TotalSeconds:F1} s");
        }

        // (b) Verification of identities never seen.
        var (training, unseen) = VerificationSets(ml, options);
        results.VerificationSetup = $"SmallCnn (width 16), 64-D, {training.Samples.Count} training images of {training.Samples.Select(s => s.Label).Distinct().Count()} identities " +
            $"({training.Height}x{training.Width}, {training.Channels} channel(s)), {options.CompareEpochs} epochs; {unseen.Samples.Select(s => s.Label).Distinct().Count()} unseen identities";
        log.WriteLine($"(b) {results.VerificationSetup}.");
        var (first, second, same) = Pairs(unseen.Samples);
        foreach (var head in heads)
        {
            var clock = Stopwatch.StartNew();
            var model = Train(ml, training, FaceLossHeads.CreateSmallDataOptions(head), FaceBackbone.SmallCnn, 16, 64, options.CompareEpochs, 0.05, 32);
            double seconds = clock.Elapsed.TotalSeconds;
            var embeddings = unseen.Samples.Select(s => model.Embed(s.Pixels)).ToList();
            var scores = first.Select((a, i) => Cosine(embeddings[a], embeddings[second[i]])).ToList();
            var m = VerificationMetrics.Compute(scores, same);
            int stride = Math.Max(1, m.Roc.Count / 150);
            var roc = m.Roc.Where((_, i) => i % stride == 0 || i == m.Roc.Count - 1).ToList();
            results.Verification.Add(new HeadVerification
            {
                Head = head, Settings = model.TrainedWith!.ToString(), Accuracy = m.Accuracy, AccuracyStdDev = m.AccuracyStdDev, Auc = m.Auc,
                Eer = m.EqualErrorRate, TarAtFar1e2 = m.TrueAcceptRate(1e-2), Seconds = Math.Round(seconds, 1),
                Far = roc.Select(p => p.FalseAcceptRate).ToList(), Tar = roc.Select(p => p.TrueAcceptRate).ToList(),
            });
            model.Dispose();
            log.WriteLine($"  {head}: {m}");
        }

        File.WriteAllText(Path.Combine(options.Output, "results.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = false }));
        File.WriteAllText(Path.Combine(options.Output, "results.md"), Table(results));
        log.WriteLine(Table(results));
        if (options.Plot) Plot(options.Output, log);
        return results;
    }

    /// <summary>The markdown table of part (b).</summary>
    public static string Table(Results results)
    {
        var text = new StringBuilder();
        text.AppendLine($"Unseen identities, {results.Data}: {results.VerificationSetup}.");
        text.AppendLine();
        text.AppendLine("| head | accuracy (10-fold) | AUC | EER | TAR@FAR=1e-2 | training s | settings |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var v in results.Verification.OrderByDescending(v => v.Auc))
            text.AppendLine($"| {v.Head} | {v.Accuracy:P1} ± {v.AccuracyStdDev:P1} | {v.Auc:F4} | {v.Eer:P1} | {(v.TarAtFar1e2 is { } t ? t.ToString("P1") : "n/a")} | {v.Seconds:F0} | `{v.Settings}` |");
        return text.ToString();
    }

    private static Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer Train(MLContext ml, LabelledSet set, FaceLossOptions loss, FaceBackbone backbone, int width, int dimension, int epochs, double learningRate, int batchSize, int softmaxWarmupEpochs = 0)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, set.Channels, set.Height, set.Width);
        var data = ml.Data.LoadFromEnumerable(set.Samples.Select(s => new Row { Features = s.Pixels, Identity = s.Label }), schema);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(data).Transform(data);
        return ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = backbone, BackboneWidth = width, EmbeddingSize = dimension, Loss = loss,
            Epochs = epochs, BatchSize = batchSize, LearningRate = learningRate, LearningRateSchedule = LearningRateSchedule.Cosine, WarmupEpochs = 1,
            GradientClipNorm = 10, Seed = 3, SoftmaxWarmupEpochs = softmaxWarmupEpochs,
        }).Fit(keyed);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    /// <summary>
    /// Trains one head's 2-D network on the ten classes and measures its held-out features: the
    /// points of its panel, the angles to the class centres and the nearest-centre accuracy.
    /// </summary>
    public static FeaturePanel TwoDimensionalFeatures(MLContext ml, string head, LabelledSet training, LabelledSet heldOut, ComparisonOptions options)
    {
        var settings = FeatureSettings.For(head);
        var panel = new FeaturePanel
        {
            Head = head, Settings = settings.Loss.ToString(), LearningRate = settings.LearningRate, OnUnitCircle = settings.OnUnitCircle,
            SoftmaxWarmupEpochs = settings.SoftmaxWarmupEpochs(options.FeatureEpochs),
        };
        Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer model;
        try
        {
            model = TrainTwoDimensional(ml, training, settings, options);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Training diverged", StringComparison.Ordinal))
        {
            panel.Failure = e.Message[..e.Message.IndexOf(':')];
            return panel;
        }
        using (model)
        {
            // Each held-out image is embedded once: for the geometry and for the panel's points.
            var heldOutFeatures = Features(model, heldOut);
            panel.Geometry = FeatureGeometry.Measure(Features(model, training), Labels(training), heldOutFeatures, Labels(heldOut), settings.Space);
            panel.X.AddRange(heldOutFeatures.Select(f => f[0]));
            panel.Y.AddRange(heldOutFeatures.Select(f => f[1]));
            panel.Label.AddRange(Labels(heldOut));
            panel.EpochLosses.AddRange(model.EpochLosses);
        }
        return panel;
    }

    /// <summary>Trains a 2-D LeNet++ (by default the one with a BatchNorm1d on its features) with one head's settings.</summary>
    public static Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer TrainTwoDimensional(MLContext ml, LabelledSet training, FeatureSettings settings,
        ComparisonOptions options, FaceBackbone backbone = FaceBackbone.LeNetPlusPlusBatchNorm)
        => Train(ml, training, settings.Loss, backbone, options.FeatureWidth, 2, options.FeatureEpochs, settings.LearningRate, options.FeatureBatchSize,
            settings.SoftmaxWarmupEpochs(options.FeatureEpochs));

    /// <summary>The geometry of a model's held-out features against the class centres of its training features.</summary>
    public static FeatureGeometry Measure(Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer model, LabelledSet training, LabelledSet heldOut, FeatureSpace space)
        => FeatureGeometry.Measure(Features(model, training), Labels(training), Features(model, heldOut), Labels(heldOut), space);

    private static List<float[]> Features(Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer model, LabelledSet set)
        => set.Samples.Select(s => model.Features(s.Pixels)).ToList();

    private static List<int> Labels(LabelledSet set) => set.Samples.Select(s => int.Parse(s.Label, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Ten classes for the 2-D picture, labelled 0 to 9: training images and held-out ones.</summary>
    public static (LabelledSet Training, LabelledSet HeldOut) TenClasses(MLContext ml, ComparisonOptions o)
    {
        int train = o.FeatureImagesPerClass, held = o.FeatureHeldOutPerClass;
        (LabelledSet, LabelledSet) Split(LabelledSet all) => (
            all with { Samples = all.Samples.GroupBy(s => s.Label).SelectMany(g => g.Take(train)).ToList() },
            all with { Samples = all.Samples.GroupBy(s => s.Label).SelectMany(g => g.Skip(train).Take(held)).ToList() });
        if (o.Idx is not null)
        {
            var (images, labels, h, w) = IdxReader.Read(o.Idx);
            var chosen = Enumerable.Range(0, 10).SelectMany(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Take(train + held))
                .Select(i => new Sample(images[i], labels[i].ToString(CultureInfo.InvariantCulture))).ToList();
            return Split(new LabelledSet(chosen, 1, h, w));
        }
        if (o.Data is not null)
        {
            var people = FolderPeople(o.Data).Take(10).ToList();
            var set = FolderSet(ml, o.Data, people, o.FeatureImageSize, grey: true, train + held);
            return Split(set with { Samples = set.Samples.Select(s => s with { Label = people.IndexOf(s.Label).ToString(CultureInfo.InvariantCulture) }).ToList() });
        }
        var faces = new SyntheticFaceOptions { Identities = 10, ImagesPerIdentity = train + held, ImageSize = o.FeatureImageSize, Variation = o.FeatureVariation };
        return Split(new LabelledSet(Synthetic(faces, grey: true, id => (id - faces.FirstIdentity).ToString(CultureInfo.InvariantCulture)), 1, o.FeatureImageSize, o.FeatureImageSize));
    }

    private static (LabelledSet Training, LabelledSet Unseen) VerificationSets(MLContext ml, ComparisonOptions o)
    {
        if (o.Idx is not null)
        {
            // Classes 0-5 train, 6-9 are unseen.
            var (images, labels, h, w) = IdxReader.Read(o.Idx);
            LabelledSet Take(int low, int high, int perClass) => new(Enumerable.Range(low, high - low + 1)
                .SelectMany(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Take(perClass))
                .Select(i => new Sample(images[i], labels[i].ToString(CultureInfo.InvariantCulture))).ToList(), 1, h, w);
            return (Take(0, 5, 100), Take(6, 9, 30));
        }
        if (o.Data is not null)
        {
            var people = FolderPeople(o.Data);
            int count = Math.Clamp((int)Math.Round(people.Count * 0.7), 2, people.Count - 2);
            return (FolderSet(ml, o.Data, people.Take(count).ToList(), o.ImageSize, grey: false, int.MaxValue),
                    FolderSet(ml, o.Data, people.Skip(count).ToList(), o.ImageSize, grey: false, int.MaxValue));
        }
        var train = new SyntheticFaceOptions { Identities = o.TrainingIdentities, ImagesPerIdentity = o.ImagesPerIdentity, ImageSize = o.ImageSize };
        var unseen = new SyntheticFaceOptions { Identities = o.UnseenIdentities, FirstIdentity = 1000, ImagesPerIdentity = o.ImagesPerIdentity, ImageSize = o.ImageSize };
        return (new LabelledSet(Synthetic(train, grey: false, SyntheticFaces.IdentityName), 3, o.ImageSize, o.ImageSize),
                new LabelledSet(Synthetic(unseen, grey: false, SyntheticFaces.IdentityName), 3, o.ImageSize, o.ImageSize));
    }

    private static List<Sample> Synthetic(SyntheticFaceOptions faces, bool grey, Func<int, string> label)
    {
        var samples = new List<Sample>();
        for (int id = faces.FirstIdentity; id < faces.FirstIdentity + faces.Identities; id++)
        {
            for (int i = 0; i < faces.ImagesPerIdentity; i++)
            {
                using var image = SyntheticFaces.Render(id, i, faces);
                samples.Add(new Sample(Planar(image.Pixels, faces.ImageSize, grey), label(id)));
            }
        }
        return samples;
    }

    /// <summary>BGRA bytes to planar pixels in [-1, 1]: R, G, B planes, or one grey plane.</summary>
    private static float[] Planar(ReadOnlySpan<byte> bgra, int size, bool grey)
    {
        int n = size * size;
        var result = new float[(grey ? 1 : 3) * n];
        for (int p = 0; p < n; p++)
        {
            float b = bgra[p * 4], g = bgra[p * 4 + 1], r = bgra[p * 4 + 2];
            if (grey) result[p] = (0.299f * r + 0.587f * g + 0.114f * b) / 127.5f - 1;
            else (result[p], result[n + p], result[2 * n + p]) = (r / 127.5f - 1, g / 127.5f - 1, b / 127.5f - 1);
        }
        return result;
    }

    private static List<string> FolderPeople(string root)
        => Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(p => Directory.EnumerateFiles(Path.Combine(root, p)).Skip(1).Any()).Order(StringComparer.Ordinal).ToList();

    private static LabelledSet FolderSet(MLContext ml, string root, List<string> people, int size, bool grey, int perPerson)
    {
        var wanted = people.ToHashSet();
        var images = ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = wanted.Contains, MinimumImagesPerIdentity = 2 });
        var pipeline = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", size, size))
            .Append(ml.Transforms.ExtractPixels("Features", "Image",
                colorsToExtract: grey ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f));
        var rows = ml.Data.CreateEnumerable<Row>(pipeline.Fit(images).Transform(images), reuseRowObject: false)
            .GroupBy(r => r.Identity).SelectMany(g => g.Take(perPerson)).Select(r => new Sample(r.Features, r.Identity)).ToList();
        return new LabelledSet(rows, grey ? 1 : 3, size, size);
    }

    /// <summary>Every same pair (at most 1,500) and as many different pairs, seeded.</summary>
    private static (List<int> First, List<int> Second, List<bool> Same) Pairs(List<Sample> samples)
    {
        var random = new Random(11);
        var same = new List<(int, int)>();
        for (int i = 0; i < samples.Count; i++)
            for (int j = i + 1; j < samples.Count; j++)
                if (samples[i].Label == samples[j].Label) same.Add((i, j));
        same = same.OrderBy(_ => random.Next()).Take(1500).ToList();
        var different = new HashSet<(int, int)>();
        while (different.Count < same.Count)
        {
            int a = random.Next(samples.Count), b = random.Next(samples.Count);
            if (samples[a].Label != samples[b].Label) different.Add((Math.Min(a, b), Math.Max(a, b)));
        }
        var all = same.Select(p => (p, true)).Concat(different.Select(p => (p, false))).ToList();
        return (all.Select(x => x.p.Item1).ToList(), all.Select(x => x.p.Item2).ToList(), all.Select(x => x.Item2).ToList());
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0;
        for (int i = 0; i < a.Length; i++) dot += (double)a[i] * b[i];
        return dot; // both are unit vectors
    }

    /// <summary>Runs the plotting tool (built with this sample) on results.json.</summary>
    private static void Plot(string output, TextWriter log)
    {
        string? tool = FindPlotTool();
        string command = $"dotnet run --project samples/LossComparison.Plots -c Release -- \"{Path.Combine(output, "results.json")}\" \"{output}\"";
        if (tool is null)
        {
            log.WriteLine($"The plotting tool is not built; draw the pictures with: {command}");
            return;
        }
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { tool, Path.Combine(output, "results.json"), output }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        log.Write(stdout);
        if (process.ExitCode != 0) throw new InvalidOperationException($"The plotting tool failed ({process.ExitCode}): {stderr}");
    }

    private static string? FindPlotTool()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string project = Path.Combine(dir.FullName, "samples", "LossComparison.Plots", "bin");
            if (!Directory.Exists(project)) continue;
            return Directory.GetFiles(project, "LossComparison.Plots.dll", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        }
        return null;
    }
}
