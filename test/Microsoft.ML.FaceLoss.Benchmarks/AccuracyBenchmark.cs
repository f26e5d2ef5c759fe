using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Detection;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>
/// Accuracy on public data with the standard protocols, on identities the model never saw:
/// LFW (train on the people of peopleDevTrain.txt, verify pairsDevTest.txt), ORL (train s1..s30,
/// verify all pairs of s31..s40) and Omniglot (train the background classes, retrieve and verify
/// the evaluation classes). Each run prints one JSON object with its configuration and figures.
/// </summary>
internal static class AccuracyBenchmark
{
    public static readonly string[] Datasets = { "orl", "omniglot", "lfw" };

    /// <summary>One configuration: the data set's defaults, overridden by the command line.</summary>
    public sealed record Config(string Dataset, string Head, FaceBackbone Backbone, int Width, int Size, bool Grey, int Embedding,
        int Epochs, double LearningRate, double Dropout, int Seed, bool SmallDataHead, string HeadParameters = "", bool Align = false, int FrozenStages = 0);

    public static Config Defaults(string dataset, Arguments args, bool quick = false)
    {
        var c = BaseDefaults(dataset, quick);
        return c with
        {
            Head = args.Get("head", c.Head),
            Backbone = Enum.Parse<FaceBackbone>(args.Get("backbone", c.Backbone.ToString()), ignoreCase: true),
            Width = args.GetInt("width", c.Width),
            Size = args.GetInt("size", c.Size),
            Embedding = args.GetInt("embedding", c.Embedding),
            Epochs = args.GetInt("epochs", c.Epochs),
            LearningRate = args.GetDouble("lr", c.LearningRate),
            Dropout = args.GetDouble("dropout", c.Dropout),
            Seed = args.GetInt("seed", c.Seed),
            SmallDataHead = args.Has("spec-head") ? false : args.Has("small-data-head") || c.SmallDataHead,
            HeadParameters = args.Get("head-params", c.HeadParameters),
            Align = args.Has("align"),
            FrozenStages = args.GetInt("frozen-stages", c.FrozenStages),
        };
    }

    /// <summary>The runs of <c>accuracy --all</c>, the README table: see the usage text.</summary>
    public static IEnumerable<Config> Suite(Arguments args, bool quick, bool allHeads)
    {
        foreach (var dataset in Datasets)
        {
            var defaults = Defaults(dataset, args, quick);
            if (quick)
            {
                yield return defaults;
                continue;
            }
            if (dataset != "lfw")
            {
                foreach (var head in FaceLossHeads.Names) yield return defaults with { Head = head };
                continue;
            }
            foreach (var head in FaceLossHeads.Names) yield return LfwComparison(defaults with { Head = head });
            if (allHeads)
            {
                foreach (var head in FaceLossHeads.Names) yield return defaults with { Head = head };
            }
            else
            {
                yield return defaults with { Head = "Softmax" };
                yield return defaults with { Head = "CosFace" };
            }
            yield return defaults with { Head = "ArcFace", SmallDataHead = true };
        }
    }

    /// <summary>
    /// LFW's budget for comparing every head: IResNet-18 at half width, 10 epochs, the small-data
    /// settings (about a sixth of the full run's time); the full budget is kept for softmax, CosFace and ArcFace.
    /// </summary>
    public static Config LfwComparison(Config c) => c with { Width = 32, Epochs = 10, SmallDataHead = true };

    /// <summary>The command line that reproduces <paramref name="c"/>: the data set, the head and every setting that differs from the defaults.</summary>
    public static string Command(Config c)
    {
        var d = BaseDefaults(c.Dataset, quick: false);
        var text = new System.Text.StringBuilder($"accuracy --dataset {c.Dataset} --head {c.Head}");
        void Add(bool differs, string flag, object value)
        {
            if (differs) text.Append(System.Globalization.CultureInfo.InvariantCulture, $" --{flag} {value}");
        }
        Add(c.Backbone != d.Backbone, "backbone", c.Backbone);
        Add(c.Width != d.Width, "width", c.Width);
        Add(c.Size != d.Size, "size", c.Size);
        Add(c.Embedding != d.Embedding, "embedding", c.Embedding);
        Add(c.Epochs != d.Epochs, "epochs", c.Epochs);
        Add(c.LearningRate != d.LearningRate, "lr", c.LearningRate);
        Add(c.Dropout != d.Dropout, "dropout", c.Dropout);
        Add(c.Seed != d.Seed, "seed", c.Seed);
        if (c.SmallDataHead != d.SmallDataHead) text.Append(c.SmallDataHead ? " --small-data-head" : " --spec-head");
        Add(c.HeadParameters.Length > 0, "head-params", c.HeadParameters);
        if (c.Align) text.Append(" --align");
        Add(c.FrozenStages != d.FrozenStages, "frozen-stages", c.FrozenStages);
        return text.ToString();
    }

    private static Config BaseDefaults(string dataset, bool quick)
        => dataset switch
        {
            "orl" => new Config("orl", "CosFace", FaceBackbone.SmallCnn, 16, 56, true, 64, 30, 0.05, 0, 7, true),
            "omniglot" => new Config("omniglot", "CosFace", FaceBackbone.SmallCnn, 16, 28, true, 64, quick ? 6 : 10, 0.05, 0, 7, true),
            "lfw" => new Config("lfw", "CosFace", FaceBackbone.IResNet18, 64, 64, false, 128, quick ? 10 : 20, 0.1, 0.4, 7, false),
            _ => throw new ArgumentException($"Unknown data set '{dataset}'; choose orl, omniglot or lfw."),
        };

    /// <summary>The head: LFW uses the measured CosFace s = 64, m = 0.35 of ../shared/notes; the small sets the small-data preset.</summary>
    private static FaceLossOptions Head(Config c)
    {
        var options = c.SmallDataHead ? FaceLossHeads.CreateSmallDataOptions(c.Head) : FaceLossHeads.CreateOptions(c.Head);
        // --head-params "margin=0.1,scale=32": the head's snake_case parameters, over the preset.
        foreach (var pair in c.HeadParameters.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2) throw new ArgumentException($"--head-params expects name=value pairs separated by commas, got '{pair}'.");
            options.SetParameter(parts[0], parts[1]);
        }
        return options;
    }

    private static FaceEmbeddingTrainer.Options TrainerOptions(Config c) => new()
    {
        Backbone = c.Backbone, BackboneWidth = c.Width, EmbeddingSize = c.Embedding, DropoutRate = c.Dropout, Loss = Head(c),
        Epochs = c.Epochs, BatchSize = 64, LearningRate = c.LearningRate, Momentum = 0.9, WeightDecay = 5e-4,
        LearningRateSchedule = LearningRateSchedule.Cosine, WarmupEpochs = Math.Max(0.5, c.Epochs * 0.1),
        // dlib's pretrained network has no batch norm: it collapses unless its gradients are clipped hard.
        GradientClipNorm = c.Backbone == FaceBackbone.DlibResNet29 ? 1 : 10,
        HorizontalFlip = c.Dataset != "omniglot", Seed = c.Seed, FrozenStages = c.FrozenStages,
    };

    public static JsonObject Run(Config c, string dataRoot, string? savePath)
    {
        var ml = new MLContext(seed: 1);
        var result = new JsonObject
        {
            ["benchmark"] = "accuracy", ["dataset"] = c.Dataset, ["head"] = c.Head, ["head_settings"] = Head(c).ToString(),
            ["backbone"] = c.Backbone.ToString(), ["width"] = c.Width, ["image"] = $"{(c.Grey ? 1 : 3)}x{c.Size}x{c.Size}{(c.Align ? " aligned" : "")}",
            ["embedding"] = c.Embedding, ["epochs"] = c.Epochs, ["learning_rate"] = c.LearningRate, ["dropout"] = c.Dropout, ["seed"] = c.Seed,
            ["command"] = Command(c),
            ["machine"] = MachineInfo.Describe(),
        };
        switch (c.Dataset)
        {
            case "orl": Orl(ml, c, dataRoot, result, savePath); break;
            case "omniglot": Omniglot(ml, c, dataRoot, result); break;
            default: Lfw(ml, c, dataRoot, result, savePath); break;
        }
        return result;
    }

    // ---- ORL: s1..s30 train, every pair of s31..s40 ----

    private static void Orl(MLContext ml, Config c, string dataRoot, JsonObject result, string? savePath)
    {
        string root = Path.Combine(dataRoot, "orl");
        static int Subject(string id) => int.Parse(id.AsSpan(1));
        var images = ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = id => Subject(id) <= 30 });
        int height = c.Size, width = (int)Math.Round(c.Size * 92.0 / 112);
        var pipeline = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", width, height))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1 / 127.5f, offsetImage: 127.5f))
            .Append(ml.FaceRecognition().Trainers.Embedding(TrainerOptions(c)));
        result["image"] = $"1x{height}x{width}";
        var (model, seconds, count) = Fit(ml, pipeline, images);
        result["train_images"] = count;
        result["seconds"] = seconds;
        result["epoch_losses"] = Losses(model);
        if (savePath is not null) ml.FaceRecognition().SaveModel(model, images.Schema, savePath);

        var unseen = ml.Data.CreateEnumerable<FaceImageRow>(ml.FaceRecognition().Data.LoadImageFolder(root, new ImageFolderOptions { IdentityFilter = id => Subject(id) > 30 }), reuseRowObject: false).ToList();
        var embeddings = EmbedPaths(ml, model, unseen.Select(u => u.ImagePath).ToList());
        var (scores, same) = AllPairs(unseen.Select(u => embeddings[u.ImagePath]).ToList(), unseen.Select(u => u.Identity).ToList());
        result["protocol"] = "train s1..s30; verify all 4,950 pairs of s31..s40 (450 same), 10 stratified folds";
        result["metrics"] = Figures(VerificationMetrics.Compute(scores, same));
    }

    // ---- Omniglot: background classes train, evaluation classes retrieve and verify ----

    private static void Omniglot(MLContext ml, Config c, string dataRoot, JsonObject result)
    {
        string folder = Path.Combine(dataRoot, "omniglot");
        var training = OmniglotSet(Path.Combine(folder, "images_background.npz"), c.Size);
        var evaluation = OmniglotSet(Path.Combine(folder, "images_evaluation.npz"), c.Size);
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, c.Size, c.Size);
        var data = ml.Data.LoadFromEnumerable(training.Select(t => new PixelRow { Features = t.Pixels, Identity = t.Label }), schema);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(data).Transform(data);
        var clock = Stopwatch.StartNew();
        using var model = ml.FaceRecognition().Trainers.Embedding(TrainerOptions(c)).Fit(keyed);
        result["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        result["train_images"] = training.Count;
        result["epoch_losses"] = new JsonArray(model.EpochLosses.Select(l => (JsonNode?)JsonValue.Create(Math.Round(l, 4))).ToArray());
        var embeddings = evaluation.Select(e => model.Embed(e.Pixels)).ToList();
        var labels = evaluation.Select(e => e.Label).ToList();
        var retrieval = RetrievalMetrics.Compute(embeddings, labels);
        // 3,000 same and 3,000 different pairs of evaluation images, seeded.
        var random = new Random(1);
        var scores = new List<double>();
        var same = new List<bool>();
        int perClass = 20;
        while (same.Count(s => s) < 3000)
        {
            int cls = random.Next(labels.Count / perClass), a = random.Next(perClass), b = random.Next(perClass);
            if (a == b) continue;
            scores.Add(Dot(embeddings[cls * perClass + a], embeddings[cls * perClass + b]));
            same.Add(true);
        }
        while (same.Count - 3000 < 3000)
        {
            int i = random.Next(labels.Count), j = random.Next(labels.Count);
            if (labels[i] == labels[j]) continue;
            scores.Add(Dot(embeddings[i], embeddings[j]));
            same.Add(false);
        }
        result["image"] = $"1x{c.Size}x{c.Size}";
        result["protocol"] = "train 964 background classes; evaluation classes (659 x 20 images): retrieval over all, verification of 3,000 same + 3,000 different seeded pairs, 10 stratified folds";
        var figures = Figures(VerificationMetrics.Compute(scores, same));
        figures["precision_at_1"] = Math.Round(retrieval.PrecisionAt1, 4);
        figures["r_precision"] = Math.Round(retrieval.RPrecision, 4);
        figures["map_at_r"] = Math.Round(retrieval.MapAtR, 4);
        result["metrics"] = figures;
    }

    private sealed class PixelRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    /// <summary>The images of an Omniglot archive, box-filtered from 105 x 105 to size x size, ink = 1, paper = -1.</summary>
    private static List<(float[] Pixels, string Label)> OmniglotSet(string npz, int size)
    {
        var (shape, data, _) = NpyReader.Read(npz, "images");
        int classes = shape[0], drawers = shape[1], side = shape[2];
        var set = new List<(float[], string)>(classes * drawers);
        double scale = side / (double)size;
        for (int c = 0; c < classes; c++)
        {
            for (int d = 0; d < drawers; d++)
            {
                int offset = (c * drawers + d) * side * side;
                var pixels = new float[size * size];
                for (int y = 0; y < size; y++)
                {
                    int y0 = (int)(y * scale), y1 = Math.Max(y0 + 1, (int)((y + 1) * scale));
                    for (int x = 0; x < size; x++)
                    {
                        int x0 = (int)(x * scale), x1 = Math.Max(x0 + 1, (int)((x + 1) * scale));
                        int ink = 0, total = 0;
                        for (int sy = y0; sy < y1; sy++)
                            for (int sx = x0; sx < x1; sx++, total++)
                                if (data[offset + sy * side + sx] == 0) ink++; // true = background
                        pixels[y * size + x] = 2f * ink / total - 1;
                    }
                }
                set.Add((pixels, $"{Path.GetFileNameWithoutExtension(npz)}-{c}"));
            }
        }
        return set;
    }

    // ---- LFW: peopleDevTrain people train, pairsDevTest verify ----

    /// <summary>The LFW training images (the people of peopleDevTrain.txt with at least 2 images) and the pipeline that trains on them.</summary>
    public static (IEstimator<ITransformer> Pipeline, IDataView Training) LfwTraining(MLContext ml, Config c, string dataRoot)
    {
        string images = LfwImages(c, dataRoot);
        var people = ProtocolReaders.ReadLfwPeople(Path.Combine(dataRoot, "lfw", "peopleDevTrain.txt")).Select(p => p.Name).ToHashSet();
        var training = ml.FaceRecognition().Data.LoadImageFolder(images, new ImageFolderOptions { IdentityFilter = people.Contains, MinimumImagesPerIdentity = 2 });
        return (LfwPreprocessing(ml, c).Append(ml.FaceRecognition().Trainers.Embedding(TrainerOptions(c))), training);
    }

    /// <summary>The LFW image folder of <paramref name="c"/>: the deep-funneled images, or their aligned copies (see <see cref="LfwAlignment"/>).</summary>
    private static string LfwImages(Config c, string dataRoot)
        => c.Align ? LfwAlignment.Prepare(dataRoot, Template(c)).Root : Path.Combine(dataRoot, "lfw", "images_deepfunneled");

    /// <summary>The alignment template: dlib's chip for the pretrained DlibResNet29, insightface's for the others.</summary>
    private static AlignmentTemplate Template(Config c) => c.Backbone == FaceBackbone.DlibResNet29 ? AlignmentTemplate.Dlib150 : AlignmentTemplate.Insightface112;

    /// <summary>ImagePath -> Features: the centre 120 x 120 of the 250 x 250 image (or the aligned face), resized, pixels in [-1, 1].</summary>
    public static IEstimator<ITransformer> LfwPreprocessing(MLContext ml, Config c)
        => (c.Align
                ? ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath").Append<ITransformer>(ml.Transforms.ResizeImages("Image", c.Size, c.Size))
                : ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath").Append<ITransformer>(ml.Transforms.CropImagesToCenter("Image", 120.0 / 250))
                    .Append<ITransformer>(ml.Transforms.ResizeImages("Image", c.Size, c.Size)))
            .Append(ml.Transforms.ExtractPixels("Features", "Image",
                colorsToExtract: c.Grey ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f));

    private static void Lfw(MLContext ml, Config c, string dataRoot, JsonObject result, string? savePath)
    {
        string lfw = Path.Combine(dataRoot, "lfw");
        string images = LfwImages(c, dataRoot);
        var (pipeline, training) = LfwTraining(ml, c, dataRoot);
        var (model, seconds, count) = Fit(ml, pipeline, training);
        result["train_images"] = count;
        result["seconds"] = seconds;
        result["epoch_losses"] = Losses(model);
        if (savePath is not null) ml.FaceRecognition().SaveModel(model, training.Schema, savePath);
        result["protocol"] = "train the people of peopleDevTrain.txt with at least 2 images; verify pairsDevTest.txt (500 + 500, unseen people), 10 stratified folds; " +
            (c.Align ? $"aligned: DetectFaces (input 320) and AlignFaces to {Template(c)}, the face nearest the centre; an image without a face: the centre crop 120 of 250" : "centre crop 120 of 250") +
            (c.Backbone == FaceBackbone.DlibResNet29 ? $"; DlibResNet29 starts from face-api's pretrained weights{(c.FrozenStages > 0 ? $", its first {c.FrozenStages} stage(s) frozen" : "")}" : "");
        if (c.Align) result["images_without_face"] = LfwAlignment.Prepare(dataRoot, Template(c)).WithoutFace;
        var pairs = ProtocolReaders.ReadPairs(Path.Combine(lfw, "pairsDevTest.txt"), images);
        result["metrics"] = PairFigures(ml, model, pairs);
        result["metrics_flip_test"] = PairFigures(ml, WithFlipTest(model), pairs);
        if (c.Backbone == FaceBackbone.DlibResNet29)
        {
            // The same network before fine-tuning, on the same pairs.
            var pretrained = LfwPreprocessing(ml, c).Append(ml.FaceRecognition().PretrainedEmbedding()).Fit(training);
            result["metrics_pretrained"] = PairFigures(ml, pretrained, pairs);
        }
    }

    // ---- evaluate: any saved model on any pairs list ----

    public static JsonObject Evaluate(string modelPath, string pairsFile, string imageRoot, bool flip)
    {
        var ml = new MLContext(seed: 1);
        var model = ml.FaceRecognition().LoadModel(modelPath, out _);
        if (flip) model = WithFlipTest(model);
        var pairs = ProtocolReaders.ReadPairs(pairsFile, imageRoot);
        return new JsonObject
        {
            ["benchmark"] = "evaluate", ["model"] = Path.GetFullPath(modelPath), ["pairs"] = Path.GetFullPath(pairsFile), ["flip_test"] = flip,
            ["protocol"] = pairs.HasFolds ? "the list's folds" : "10 stratified folds",
            ["metrics"] = PairFigures(ml, model, pairs),
        };
    }

    /// <summary>
    /// dlib's pretrained ResNet-29 as it is on LFW pairs.txt (6,000 pairs, its 10 folds), unaligned:
    /// the centre 110 x 110 of the deep-funneled 250 x 250 image, resized to 150 x 150 (the crop of
    /// the independent measurement in ../shared/models/README.md).
    /// </summary>
    public static JsonObject Pretrained(string dataRoot, string? modelFolder, string? saveModel)
    {
        var ml = new MLContext(seed: 1);
        string lfw = Path.Combine(dataRoot, "lfw"), images = Path.Combine(lfw, "images_deepfunneled");
        var clock = Stopwatch.StartNew();
        var pipeline = UnalignedPretrained(ml, modelFolder);
        var empty = ml.Data.LoadFromEnumerable(new[] { new FaceImageRow { ImagePath = Path.Combine(images, "Aaron_Eckhart", "Aaron_Eckhart_0001.jpg") } });
        var model = pipeline.Fit(empty);
        if (saveModel is not null) ml.FaceRecognition().SaveModel(model, empty.Schema, saveModel);
        var pairs = ProtocolReaders.ReadPairs(Path.Combine(lfw, "pairs.txt"), images);
        var metrics = PairFigures(ml, model, pairs);
        var flipped = PairFigures(ml, WithFlipTest(model), pairs);
        return new JsonObject
        {
            ["benchmark"] = "accuracy", ["dataset"] = "lfw-pairs", ["head"] = "none", ["head_settings"] = "pretrained, no training", ["backbone"] = "DlibResNet29",
            ["width"] = 32, ["image"] = "3x150x150", ["embedding"] = 128, ["epochs"] = 0, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            ["command"] = "pretrained --dataset lfw", ["machine"] = MachineInfo.Describe(),
            ["protocol"] = "dlib's pretrained ResNet-29 (face-api weights), no training; LFW pairs.txt, 6,000 pairs in its 10 folds; unaligned: centre crop 110 of 250, resized to 150; cosine similarity",
            ["metrics"] = metrics,
            ["metrics_flip_test"] = flipped,
        };
    }

    /// <summary>
    /// dlib's pretrained ResNet-29 on LFW pairs.txt with faces aligned by this library: DetectFaces
    /// (Tiny Face Detector, 416), AlignFaces (68 landmarks, five points, Umeyama to dlib's 150 x 150
    /// chip), the face nearest the image centre (LFW's subject). An image in which no face is found
    /// falls back, counted in the JSON, to the unaligned centre crop of <see cref="Pretrained"/>, so
    /// that every pair is scored.
    /// </summary>
    public static JsonObject PretrainedAligned(string dataRoot, string? modelFolder, string? saveModel, int detectorSize)
    {
        var ml = new MLContext(seed: 1);
        string lfw = Path.Combine(dataRoot, "lfw"), images = Path.Combine(lfw, "images_deepfunneled");
        var clock = Stopwatch.StartNew();
        var alignment = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.FaceRecognition().Transforms.DetectFaces(new DetectFacesEstimator.Options { ModelFolder = modelFolder, Detector = new FaceDetectorOptions { InputSize = detectorSize } }))
            .Append(ml.FaceRecognition().Transforms.AlignFaces(new AlignFacesEstimator.Options
            {
                Template = AlignmentTemplate.Dlib150, Selection = FaceSelection.NearestCenter, ModelFolder = modelFolder,
            }))
            .Append(ml.Transforms.ExtractPixels("Features", "AlignedImage", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f));
        var unaligned = UnalignedPretrained(ml, modelFolder);
        var empty = ml.Data.LoadFromEnumerable(new[] { new FaceImageRow { ImagePath = Path.Combine(images, "Aaron_Eckhart", "Aaron_Eckhart_0001.jpg") } });
        var aligner = alignment.Fit(empty);
        var embedder = ml.FaceRecognition().PretrainedEmbedding(modelFolder: modelFolder).Fit(aligner.Transform(empty));
        var fallback = unaligned.Fit(empty);
        if (saveModel is not null) ml.FaceRecognition().SaveModel(aligner.Append(embedder), empty.Schema, saveModel);
        var pairs = ProtocolReaders.ReadPairs(Path.Combine(lfw, "pairs.txt"), images);

        // Detection and alignment once; the plain and the flip-test embeddings from the same aligned pixels.
        var paths = pairs.Pairs.SelectMany(p => new[] { p.ImagePath1, p.ImagePath2 }).Distinct().ToList();
        var aligned = aligner.Transform(ml.Data.LoadFromEnumerable(paths.Select(p => new FaceImageRow { ImagePath = p }).ToList()));
        var features = ml.Data.Cache(ml.Transforms.SelectColumns("ImagePath", "Features").Fit(aligned).Transform(aligned));
        var (metrics, withoutFace) = AlignedPairFigures(ml, embedder.Transform(features), fallback, pairs);
        var (flipped, _) = AlignedPairFigures(ml, embedder.WithFlipTest().Transform(features), WithFlipTest(fallback), pairs);
        return new JsonObject
        {
            ["benchmark"] = "accuracy", ["dataset"] = "lfw-pairs", ["head"] = "none", ["head_settings"] = "pretrained, no training", ["backbone"] = "DlibResNet29",
            ["width"] = 32, ["image"] = "3x150x150 aligned", ["embedding"] = 128, ["epochs"] = 0, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            ["command"] = "pretrained --dataset lfw --align" + (detectorSize == 416 ? "" : $" --detector-size {detectorSize}"), ["machine"] = MachineInfo.Describe(),
            ["protocol"] = "dlib's pretrained ResNet-29 (face-api weights), no training; LFW pairs.txt, 6,000 pairs in its 10 folds; aligned: " +
                $"DetectFaces (tiny face detector, input {detectorSize}) and AlignFaces (68 landmarks -> 5 points -> Umeyama similarity to dlib's 150 x 150 chip, padding 0.25), " +
                "the face nearest the image centre; images without a face: the unaligned centre crop 110 of 250; cosine similarity",
            ["images"] = paths.Count,
            ["images_without_face"] = withoutFace,
            ["metrics"] = metrics,
            ["metrics_flip_test"] = flipped,
        };
    }

    /// <summary>Pair figures from embedded rows (ImagePath, Embedding); rows whose embedding is NaN (no face) are embedded by <paramref name="fallback"/>.</summary>
    private static (JsonObject Figures, int WithoutFace) AlignedPairFigures(MLContext ml, IDataView embedded, ITransformer fallback, FacePairList pairs)
    {
        var rows = ml.Data.CreateEnumerable<PathEmbeddingRow>(embedded, reuseRowObject: false).ToList();
        var embeddings = rows.ToDictionary(r => r.ImagePath, r => r.Embedding);
        var missing = rows.Where(r => r.Embedding.Any(float.IsNaN)).Select(r => r.ImagePath).ToList();
        if (missing.Count > 0)
            foreach (var (path, embedding) in EmbedPaths(ml, fallback, missing)) embeddings[path] = embedding;
        var scores = pairs.Pairs.Select(p => Dot(embeddings[p.ImagePath1], embeddings[p.ImagePath2])).ToList();
        var folds = pairs.HasFolds ? pairs.Pairs.Select(p => p.Fold!.Value).ToList() : null;
        return (Figures(VerificationMetrics.Compute(scores, pairs.Pairs.Select(p => p.IsSame).ToList(), folds)), missing.Count);
    }

    private sealed class PathEmbeddingRow
    {
        public string ImagePath { get; set; } = "";

        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private const int DlibResNet29Size = 150;

    /// <summary>ImagePath -> the centre 110 of 250, resized to 150 -> dlib's pretrained network as it is.</summary>
    private static IEstimator<ITransformer> UnalignedPretrained(MLContext ml, string? modelFolder)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.CropImagesToCenter("Image", 110.0 / 250))
            .Append(ml.Transforms.ResizeImages("Image", DlibResNet29Size, DlibResNet29Size))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f))
            .Append(ml.FaceRecognition().PretrainedEmbedding(modelFolder: modelFolder));

    private static ITransformer WithFlipTest(ITransformer model)
    {
        var steps = ((IEnumerable<ITransformer>)model).ToList();
        var embedder = steps.OfType<FaceEmbeddingTransformer>().Last();
        steps[steps.IndexOf(embedder)] = embedder.WithFlipTest();
        return new TransformerChain<ITransformer>(steps.ToArray());
    }

    private static JsonObject PairFigures(MLContext ml, ITransformer model, FacePairList pairs)
    {
        var paths = pairs.Pairs.SelectMany(p => new[] { p.ImagePath1, p.ImagePath2 }).Distinct().ToList();
        var embeddings = EmbedPaths(ml, model, paths);
        var scores = pairs.Pairs.Select(p => Dot(embeddings[p.ImagePath1], embeddings[p.ImagePath2])).ToList();
        var folds = pairs.HasFolds ? pairs.Pairs.Select(p => p.Fold!.Value).ToList() : null;
        return Figures(VerificationMetrics.Compute(scores, pairs.Pairs.Select(p => p.IsSame).ToList(), folds));
    }

    public static (ITransformer Model, double Seconds, int Images) Fit(MLContext ml, IEstimator<ITransformer> pipeline, IDataView images)
    {
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(images).Transform(images);
        var clock = Stopwatch.StartNew();
        var model = pipeline.Fit(keyed);
        return (model, Math.Round(clock.Elapsed.TotalSeconds, 1), (int)(images.GetRowCount() ?? 0));
    }

    /// <summary>Each epoch's mean training loss, rounded, for the JSON.</summary>
    private static JsonArray Losses(ITransformer model)
        => new(((IEnumerable<ITransformer>)model).OfType<FaceEmbeddingTransformer>().Last().EpochLosses
            .Select(l => (JsonNode?)JsonValue.Create(Math.Round(l, 4))).ToArray());

    private static Dictionary<string, float[]> EmbedPaths(MLContext ml, ITransformer model, List<string> paths)
    {
        var view = ml.Data.LoadFromEnumerable(paths.Select(p => new FaceImageRow { ImagePath = p }).ToList());
        var rows = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(view), reuseRowObject: false).ToList();
        return paths.Zip(rows).ToDictionary(p => p.First, p => p.Second.Embedding);
    }

    private sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private static (List<double> Scores, List<bool> Same) AllPairs(List<float[]> embeddings, List<string> labels)
    {
        var scores = new List<double>();
        var same = new List<bool>();
        for (int i = 0; i < embeddings.Count; i++)
            for (int j = i + 1; j < embeddings.Count; j++)
            {
                scores.Add(Dot(embeddings[i], embeddings[j]));
                same.Add(labels[i] == labels[j]);
            }
        return (scores, same);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    private static JsonObject Figures(VerificationMetrics m) => new()
    {
        ["accuracy"] = Math.Round(m.Accuracy, 4),
        ["accuracy_std"] = Math.Round(m.AccuracyStdDev, 4),
        ["auc"] = Math.Round(m.Auc, 4),
        ["eer"] = Math.Round(m.EqualErrorRate, 4),
        ["tar_at_far_1e-2"] = m.TrueAcceptRate(1e-2) is { } t ? Math.Round(t, 4) : null,
        ["tar_at_far_1e-3"] = m.TrueAcceptRate(1e-3) is { } t3 ? Math.Round(t3, 4) : null,
        ["threshold"] = Math.Round(m.Threshold, 4),
        ["same_pairs"] = m.SamePairs,
        ["different_pairs"] = m.DifferentPairs,
        ["folds"] = m.Folds,
    };
}
