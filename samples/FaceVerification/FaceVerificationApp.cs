using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.FaceLoss.Verification;
using Spectre.Console;

namespace FaceVerification;

/// <summary>What the sample is asked to do.</summary>
public sealed record SampleOptions
{
    /// <summary>A folder with one sub-folder of images per person; null draws synthetic faces.</summary>
    public string? Data { get; init; }

    /// <summary>A pairs list of the unseen people (LFW format or a pairs CSV, paths relative to <see cref="Data"/>); null builds one.</summary>
    public string? Pairs { get; init; }

    /// <summary>Where the synthetic faces, the models and nothing else are written.</summary>
    public string Output { get; init; } = Path.GetFullPath("face-verification");

    /// <summary>Synthetic people drawn when there is no <see cref="Data"/>.</summary>
    public int SyntheticPeople { get; init; } = 300;

    /// <summary>Synthetic images per person.</summary>
    public int SyntheticImages { get; init; } = 10;

    /// <summary>The share of the people trained on; the others are unseen.</summary>
    public double TrainingShare { get; init; } = 0.7;

    public FaceModel.TrainingSettings Training { get; init; } = new();

    /// <summary>Whether a progress bar is drawn.</summary>
    public bool ShowProgress { get; init; } = true;

    /// <summary>A folder for the ONNX deployment (samples/FaceVerification.Onnx reads it); null writes none.</summary>
    public string? OnnxFolder { get; init; }
}

/// <summary>What the sample measured.</summary>
public sealed record SampleResult(VerificationMetrics Verification, double Rank1, int Probes, string ModelPath, string GalleryPath, int TrainingPeople, int UnseenPeople);

/// <summary>
/// The sample's main path: train on some people, measure verification of the others (never seen),
/// save the model, then verify a pair and identify a face with the saved models.
/// </summary>
public static class FaceVerificationApp
{
    public static SampleResult Run(SampleOptions options)
    {
        Directory.CreateDirectory(options.Output);
        var ml = new MLContext(seed: 1);
        string root = options.Data ?? DrawSyntheticFaces(ml, options);
        var people = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(p => Directory.EnumerateFiles(Path.Combine(root, p)).Skip(1).Any())
            .OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal).ToList();
        int trainingCount = Math.Clamp((int)Math.Round(people.Count * options.TrainingShare), 2, people.Count - 2);
        var trainingPeople = people.Take(trainingCount).ToHashSet();
        var unseenPeople = people.Skip(trainingCount).ToList();
        AnsiConsole.MarkupLine($"[bold]Data[/]: {Markup.Escape(root)}: {trainingPeople.Count} people to train on, {unseenPeople.Count} unseen people to verify.");

        // Train: identities become keys outside the model, so the saved model needs image paths only.
        var images = ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = trainingPeople.Contains, MinimumImagesPerIdentity = 2 });
        var training = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(images).Transform(images);
        string modelPath = Path.Combine(options.Output, "face-model.zip");
        var settings = options.Training;
        AnsiConsole.MarkupLine($"[bold]Training[/] {settings.Backbone}, {settings.Head}, {settings.ImageSize}x{settings.ImageSize} {(settings.Grey ? "grey" : "RGB")}, {settings.Epochs} epochs.");
        var model = ShowProgress(options.ShowProgress, settings.Epochs, progress => FaceModel.Train(ml, training, images.Schema, settings, modelPath, progress));

        // Verify unseen people with the protocol's figures.
        var unseenImages = ml.Data.CreateEnumerable<FaceImageRow>(
            ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = unseenPeople.Contains, MinimumImagesPerIdentity = 2 }), reuseRowObject: false).ToList();
        IDataView pairs;
        string? foldColumn = null;
        if (options.Pairs is not null)
        {
            var list = ml.FaceRecognition().Data.ReadPairs(options.Pairs, root);
            pairs = ml.FaceRecognition().Data.LoadPairs(options.Pairs, root);
            foldColumn = list.HasFolds ? "Fold" : null;
        }
        else
        {
            pairs = ml.Data.LoadFromEnumerable(BuildPairs(unseenImages));
        }
        var embedPairs = ml.FaceRecognition().Transforms.EmbedPairs(model, pairs);
        var embedded = embedPairs.Transform(pairs);
        var scorer = ml.FaceRecognition().Transforms.ScorePairs().Fit(embedded);
        var metrics = ml.FaceRecognition().EvaluateVerification(scorer.Transform(embedded), foldColumnName: foldColumn);
        PrintMetrics(metrics, unseenPeople.Count);

        // Enrol the unseen people (the first half of each one's images) and save the identifying model.
        var gallery = unseenImages.GroupBy(r => r.Identity).SelectMany(g => g.Take(Math.Max(1, g.Count() / 2))).ToList();
        var probes = unseenImages.Except(gallery).ToList();
        var enrolled = ml.FaceRecognition().Transforms.EnrollGallery(rejectionThreshold: scorer.Threshold)
            .Fit(model.Transform(ml.Data.LoadFromEnumerable(gallery)));
        string galleryPath = Path.Combine(options.Output, "face-gallery.zip");
        ml.FaceRecognition().SaveModel(model.Append(enrolled), images.Schema, galleryPath);

        // The saved models in use, each loaded once.
        FaceModel.ModelPath = modelPath;
        FaceModel.GalleryPath = galleryPath;
        var first = probes[0];
        var samePerson = unseenImages.First(r => r.Identity == first.Identity && r.ImagePath != first.ImagePath);
        var otherPerson = unseenImages.First(r => r.Identity != first.Identity);
        foreach (var (a, b) in new[] { (first, samePerson), (first, otherPerson) })
        {
            double similarity = FaceModel.Similarity(a.ImagePath, b.ImagePath);
            AnsiConsole.MarkupLine($"Verify {Name(a)} vs {Name(b)}: cosine {similarity:F3} -> [bold]{(similarity >= scorer.Threshold ? "same person" : "different people")}[/]");
        }
        // Identify every probe (the images not enrolled) with the saved gallery model.
        int correct = probes.Count(p => FaceModel.Identify(p.ImagePath).PredictedIdentity == p.Identity);
        double rank1 = (double)correct / probes.Count;
        AnsiConsole.MarkupLine($"Identify {probes.Count} probes of the {enrolled.Identities.Count} enrolled unseen people with the saved gallery model: " +
            $"rank-1 [bold]{rank1:P1}[/] ({correct} correct).");
        AnsiConsole.MarkupLine($"Saved {Markup.Escape(modelPath)} (image -> embedding) and {Markup.Escape(galleryPath)} (image -> identity).");
        if (options.OnnxFolder is not null)
        {
            var galleryEmbeddings = model.Transform(ml.Data.LoadFromEnumerable(gallery));
            OnnxDeployment.Write(ml, options.OnnxFolder, model, images.Schema, embedded, scorer, galleryEmbeddings, enrolled, probes);
        }
        return new SampleResult(metrics, rank1, probes.Count, modelPath, galleryPath, trainingPeople.Count, unseenPeople.Count);
    }

    private static string DrawSyntheticFaces(MLContext ml, SampleOptions options)
    {
        string root = Path.Combine(options.Output, "synthetic-faces");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        int files = ml.FaceRecognition().Data.WriteSyntheticFaces(root, new SyntheticFaceOptions
        {
            Identities = options.SyntheticPeople, ImagesPerIdentity = options.SyntheticImages, ImageSize = 64,
        });
        AnsiConsole.MarkupLine($"Drew {files} synthetic faces of {options.SyntheticPeople} people (no download needed).");
        return root;
    }

    /// <summary>Every same pair of the unseen people (at most 3,000) and as many different pairs, seeded.</summary>
    internal static List<FacePairRow> BuildPairs(List<FaceImageRow> images)
    {
        var random = new Random(5);
        var same = new List<FacePairRow>();
        for (int i = 0; i < images.Count; i++)
            for (int j = i + 1; j < images.Count; j++)
                if (images[i].Identity == images[j].Identity)
                    same.Add(new FacePairRow { ImagePath1 = images[i].ImagePath, ImagePath2 = images[j].ImagePath, IsSame = true });
        same = same.OrderBy(_ => random.Next()).Take(3000).ToList();
        var different = new HashSet<(int, int)>();
        while (different.Count < same.Count)
        {
            int a = random.Next(images.Count), b = random.Next(images.Count);
            if (images[a].Identity != images[b].Identity) different.Add((Math.Min(a, b), Math.Max(a, b)));
        }
        return same.Concat(different.Select(p => new FacePairRow { ImagePath1 = images[p.Item1].ImagePath, ImagePath2 = images[p.Item2].ImagePath })).ToList();
    }

    private static TransformerChain<Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer> ShowProgress(bool show, int epochs,
        Func<IProgress<TrainingProgress>?, TransformerChain<Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer>> train)
    {
        if (!show || !AnsiConsole.Profile.Capabilities.Interactive)
            return train(new Reporter(p => { if (p.Step == p.TotalSteps || p.Step % 50 == 0) Console.WriteLine($"  {p}"); }));
        TransformerChain<Microsoft.ML.FaceLoss.Embedding.FaceEmbeddingTransformer>? model = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: 1);
                model = train(new Reporter(p =>
                {
                    task.MaxValue = p.TotalSteps;
                    task.Value = p.Step;
                    task.Description = $"epoch {p.Epoch}/{epochs}  loss {p.EpochLoss:F3}  {p.ImagesPerSecond:F0} img/s";
                }));
            });
        return model!;
    }

    private static void PrintMetrics(VerificationMetrics m, int people)
    {
        var table = new Table().AddColumns("unseen people", "pairs", "accuracy (10-fold)", "AUC", "EER", "TAR@FAR=1e-2", "threshold");
        table.AddRow(people.ToString(), $"{m.SamePairs} + {m.DifferentPairs}", $"{m.Accuracy:P2} ± {m.AccuracyStdDev:P2}", $"{m.Auc:F4}",
            $"{m.EqualErrorRate:P2}", m.TrueAcceptRate(1e-2) is { } tar ? $"{tar:P2}" : "n/a", $"{m.Threshold:F3}");
        AnsiConsole.Write(table);
    }

    private static string Name(FaceImageRow row) => Markup.Escape($"{row.Identity}/{Path.GetFileName(row.ImagePath)}");

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
