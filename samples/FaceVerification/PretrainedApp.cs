using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Detection;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Transforms.Image;
using Spectre.Console;

namespace FaceVerification;

/// <summary>What the pretrained path is asked to do.</summary>
public sealed record PretrainedOptions
{
    /// <summary>face-api's model folder; null for <see cref="PretrainedModels.DefaultFolder"/>.</summary>
    public string? Models { get; init; }

    /// <summary>Where the aligned faces and the fine-tuned model are written.</summary>
    public string Output { get; init; } = Path.GetFullPath("face-verification");

    /// <summary>A folder with one sub-folder of photos per person (fine-tuning).</summary>
    public string? Data { get; init; }

    /// <summary>The most people taken from <see cref="Data"/> (those with at least <see cref="MinimumImages"/> photos, by name).</summary>
    public int People { get; init; } = 40;

    /// <summary>The fewest photos a person needs to be taken.</summary>
    public int MinimumImages { get; init; } = 5;

    /// <summary>The most photos taken of one person (the first by name).</summary>
    public int MaximumImages { get; init; } = 20;

    /// <summary>Fine-tuning epochs.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>The loss head of fine-tuning.</summary>
    public string Head { get; init; } = "CosFace";

    /// <summary>The stages of the pretrained network that stay as they are (0 to 4).</summary>
    public int FrozenStages { get; init; } = 3;

    /// <summary>The share of the people fine-tuned on; the others are unseen.</summary>
    public double TrainingShare { get; init; } = 0.7;

    /// <summary>Whether a progress bar is drawn.</summary>
    public bool ShowProgress { get; init; } = true;
}

/// <summary>The verdict on two photos: their cosine similarity (NaN where a face is missing), the decision, and which photos showed a face.</summary>
public sealed record VerifyResult(double Cosine, bool SamePerson, bool[] FaceFound);

/// <summary>What fine-tuning measured on the unseen people: before (the network as it is) and after.</summary>
public sealed record FineTuneResult(VerificationMetrics Before, VerificationMetrics After, int TrainingPeople, int UnseenPeople, int ImagesWithoutFace, string ModelPath);

/// <summary>
/// The pretrained path: dlib's ResNet-29 descriptor with faces found and aligned by face-api's
/// detector and landmark net. Verify two photos with no training at all, or fine-tune the network
/// on a folder of a few people and measure verification of the others before and after.
/// </summary>
public static class PretrainedApp
{
    /// <summary>
    /// The cosine similarity above which two aligned faces are called one person: the threshold fitted
    /// on LFW pairs.txt (6,000 pairs, 97.9% accuracy) by <c>pretrained --dataset lfw --align
    /// --detector-size 320</c> in the benchmark project (0.9047).
    /// </summary>
    public const double LfwThreshold = 0.905;

    /// <summary>
    /// The detector's input side: 320 found a face in more LFW images (all but 296 of 7,701) than
    /// face-api's default 416 (1,139 missed) or 224 (535), for faces that fill a good part of the photo.
    /// </summary>
    public const int DetectorInputSize = 320;

    private sealed class PhotoRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class AlignedPhoto
    {
        public string ImagePath { get; set; } = "";

        public bool FaceFound { get; set; }

        public float[] FaceBoxes { get; set; } = Array.Empty<float>();

        public float[] FaceScores { get; set; } = Array.Empty<float>();

        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    /// <summary>Photo path -> faces -> the largest aligned to dlib's 150 x 150 chip -> pixels in [-1, 1].</summary>
    private static IEstimator<ITransformer> Alignment(MLContext ml, string? models)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.FaceRecognition().Transforms.DetectFaces(new DetectFacesEstimator.Options
            {
                ModelFolder = models, Detector = new FaceDetectorOptions { InputSize = DetectorInputSize },
            }))
            .Append(ml.FaceRecognition().Transforms.AlignFaces(new AlignFacesEstimator.Options
            {
                Template = AlignmentTemplate.Dlib150, Selection = FaceSelection.Largest, ModelFolder = models,
            }));

    private static IEstimator<ITransformer> Pixels(MLContext ml, string imageColumn)
        => ml.Transforms.ExtractPixels("Features", imageColumn, colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f);

    /// <summary>
    /// Verifies two photos with the pretrained network, no training: prints each face and the decision.
    /// A photo without a face is reported, with no decision.
    /// </summary>
    public static VerifyResult Verify(string photo1, string photo2, string? models)
    {
        var ml = new MLContext(seed: 1);
        var photos = ml.Data.LoadFromEnumerable(new[] { new PhotoRow { ImagePath = photo1 }, new PhotoRow { ImagePath = photo2 } });
        var model = Alignment(ml, models).Append(Pixels(ml, "AlignedImage")).Append(ml.FaceRecognition().PretrainedEmbedding(modelFolder: models)).Fit(photos);
        var rows = ml.Data.CreateEnumerable<AlignedPhoto>(model.Transform(photos), reuseRowObject: false).ToList();
        foreach (var row in rows)
        {
            if (!row.FaceFound)
            {
                AnsiConsole.MarkupLine($"[red]No face found[/] in {Markup.Escape(row.ImagePath)}: use a photo where the face is at least about 40 pixels wide and seen from the front.");
                continue;
            }
            AnsiConsole.MarkupLine($"{Markup.Escape(Path.GetFileName(row.ImagePath))}: {row.FaceScores.Length} face(s), the largest at " +
                $"({row.FaceBoxes[0]:F0}, {row.FaceBoxes[1]:F0}) {row.FaceBoxes[2]:F0} x {row.FaceBoxes[3]:F0} px, aligned to dlib's 150 x 150 chip.");
        }
        var found = rows.Select(r => r.FaceFound).ToArray();
        if (!found.All(f => f)) return new VerifyResult(double.NaN, false, found);
        double cosine = rows[0].Embedding.Zip(rows[1].Embedding).Sum(p => (double)p.First * p.Second);
        bool same = cosine >= LfwThreshold;
        AnsiConsole.MarkupLine($"Cosine similarity {cosine:F3}; threshold {LfwThreshold:F3} (fitted on LFW's 6,000 pairs) -> [bold]{(same ? "same person" : "different people")}[/]");
        return new VerifyResult(cosine, same, found);
    }

    /// <summary>
    /// Aligns every photo of a folder of people once (aligned PNGs under the output folder; photos
    /// without a face are counted and left out), measures verification of the unseen people with the
    /// network as it is, fine-tunes it on the others, measures again, and saves the fine-tuned model
    /// (photo -> detection -> alignment -> embedding).
    /// </summary>
    public static FineTuneResult FineTune(PretrainedOptions options)
    {
        string root = options.Data ?? throw new ArgumentException("Fine-tuning needs --data <folder with one sub-folder of photos per person>.");
        var ml = new MLContext(seed: 1);
        var people = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(p => Directory.EnumerateFiles(Path.Combine(root, p)).Count() >= options.MinimumImages)
            .OrderBy(p => p, StringComparer.Ordinal).Take(options.People).ToList();
        if (people.Count < 4)
            throw new ArgumentException($"'{root}' has {people.Count} people with at least {options.MinimumImages} photos; fine-tuning and its check need at least 4.");
        int trainingCount = Math.Clamp((int)Math.Round(people.Count * options.TrainingShare), 2, people.Count - 2);
        var trainingPeople = people.Take(trainingCount).ToHashSet();

        // Align every photo once.
        var listed = ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = people.Contains, MinimumImagesPerIdentity = options.MinimumImages });
        var photos = ml.Data.LoadFromEnumerable(ml.Data.CreateEnumerable<FaceImageRow>(listed, reuseRowObject: false)
            .GroupBy(r => r.Identity).SelectMany(g => g.OrderBy(r => r.ImagePath, StringComparer.Ordinal).Take(options.MaximumImages)).ToList());
        var alignment = Alignment(ml, options.Models).Fit(photos);
        string alignedRoot = Path.Combine(options.Output, "aligned");
        var aligned = new List<FaceImageRow>();
        int withoutFace = 0;
        // A cursor, so that each aligned image is saved before the next row replaces it.
        var output = alignment.Transform(photos);
        using (var cursor = output.GetRowCursor(output.Schema))
        {
            var getPath = cursor.GetGetter<ReadOnlyMemory<char>>(output.Schema["ImagePath"]);
            var getIdentity = cursor.GetGetter<ReadOnlyMemory<char>>(output.Schema["Identity"]);
            var getFound = cursor.GetGetter<bool>(output.Schema["FaceFound"]);
            var getAligned = cursor.GetGetter<MLImage>(output.Schema["AlignedImage"]);
            ReadOnlyMemory<char> path = default, identity = default;
            bool found = false;
            MLImage image = null!;
            while (cursor.MoveNext())
            {
                getFound(ref found);
                if (!found)
                {
                    withoutFace++;
                    continue;
                }
                getPath(ref path);
                getIdentity(ref identity);
                getAligned(ref image);
                string folder = Path.Combine(alignedRoot, identity.ToString());
                Directory.CreateDirectory(folder);
                string file = Path.Combine(folder, Path.GetFileNameWithoutExtension(path.ToString()) + ".png");
                image.Save(file);
                aligned.Add(new FaceImageRow { ImagePath = file, Identity = identity.ToString() });
            }
        }
        AnsiConsole.MarkupLine($"[bold]Aligned[/] {aligned.Count} photos of {people.Count} people into {Markup.Escape(alignedRoot)}; no face found in {withoutFace}.");
        var training = aligned.Where(r => trainingPeople.Contains(r.Identity)).ToList();
        var unseen = aligned.Where(r => !trainingPeople.Contains(r.Identity)).ToList();
        var pairs = ml.Data.LoadFromEnumerable(FaceVerificationApp.BuildPairs(unseen));
        AnsiConsole.MarkupLine($"Fine-tuning on {trainingPeople.Count} people ({training.Count} photos); verifying {people.Count - trainingPeople.Count} unseen people.");

        // Before: the network as it is.
        var trainingView = ml.Data.LoadFromEnumerable(training);
        // The aligned PNGs are 150 x 150 already; ResizeImages gives the column the known size ExtractPixels needs.
        var load = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath").Append(ml.Transforms.ResizeImages("Image", 150, 150)).Append(Pixels(ml, "Image"));
        var pretrained = load.Append(ml.FaceRecognition().PretrainedEmbedding(modelFolder: options.Models)).Fit(trainingView);
        var before = Evaluate(ml, pretrained, pairs);

        // Fine-tune: the first stages frozen, the rest trained with the head.
        var trainer = ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.DlibResNet29,
            PretrainedModelFolder = options.Models,
            FrozenStages = options.FrozenStages,
            EmbeddingSize = 128,
            Loss = FaceLossHeads.CreateSmallDataOptions(options.Head),
            Epochs = options.Epochs,
            BatchSize = 16,
            LearningRate = 0.005,
            // dlib's network has no batch norm: unclipped gradients collapse it within a few steps.
            GradientClipNorm = 1,
            LearningRateSchedule = LearningRateSchedule.Cosine,
            Seed = 7,
            Progress = options.ShowProgress ? new StepPrinter() : null,
        });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(trainingView).Transform(trainingView);
        var loaded = load.Fit(keyed);
        var fineTuned = trainer.Fit(loaded.Transform(keyed));
        var after = Evaluate(ml, loaded.Append(fineTuned), pairs);

        // The saved model takes photos: detection, alignment, pixels, the fine-tuned network.
        var steps = ((IEnumerable<ITransformer>)alignment).Append(Pixels(ml, "AlignedImage").Fit(alignment.Transform(photos))).Append(fineTuned);
        var photoModel = new TransformerChain<ITransformer>(steps.ToArray());
        string modelPath = Path.Combine(options.Output, "fine-tuned-face-model.zip");
        ml.FaceRecognition().SaveModel(photoModel, photos.Schema, modelPath);

        var table = new Table().AddColumns("unseen people", "pairs", "network", "accuracy (10-fold)", "AUC", "EER", "threshold");
        foreach (var (name, m) in new[] { ("pretrained, as it is", before), ($"fine-tuned ({options.Head}, {options.Epochs} epochs, {options.FrozenStages} stages frozen)", after) })
            table.AddRow($"{people.Count - trainingPeople.Count}", $"{m.SamePairs} + {m.DifferentPairs}", name, $"{m.Accuracy:P2} ± {m.AccuracyStdDev:P2}", $"{m.Auc:F4}", $"{m.EqualErrorRate:P2}", $"{m.Threshold:F3}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Saved {Markup.Escape(modelPath)} (photo -> face -> aligned -> embedding).");
        return new FineTuneResult(before, after, trainingPeople.Count, people.Count - trainingPeople.Count, withoutFace, modelPath);
    }

    /// <summary>Prints every 20th training step and the last.</summary>
    private sealed class StepPrinter : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == value.TotalSteps || value.Step % 20 == 0) Console.WriteLine($"  {value}");
        }
    }

    private static VerificationMetrics Evaluate(MLContext ml, ITransformer model, IDataView pairs)
    {
        var embedded = ml.FaceRecognition().Transforms.EmbedPairs(model, pairs).Transform(pairs);
        var scorer = ml.FaceRecognition().Transforms.ScorePairs().Fit(embedded);
        return ml.FaceRecognition().EvaluateVerification(scorer.Transform(embedded));
    }
}
