using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Image;

namespace DistributedTrainingSample;

/// <summary>
/// Trains a face embedding as the ranks of an MPI job (or, started without mpirun, in one process) and
/// verifies people it never saw. Every rank runs this same program on the same data; the trainer gives
/// each rank its share of every step's batches and averages the gradients; rank 0 alone reports
/// progress, verifies and saves the model. Default data: the ORL faces (40 people, 10 photos each).
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: [mpirun -np N] dotnet DistributedTraining.dll [--data <folder of people>] [--head CosFace] [--epochs 12] [--shard]\n" +
        "                        [--accumulate 1] [--threads 1] [--output distributed-training]";

    public static int Main(string[] args)
    {
        string data = Path.GetFullPath(Path.Combine("..", "shared", "datasets", "orl")), head = "CosFace", output = Path.GetFullPath("distributed-training");
        int epochs = 12, accumulate = 1, threads = 1;
        bool shard = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : "";
            switch (args[i])
            {
                case "--data": data = Path.GetFullPath(Value()); break;
                case "--head": head = Value(); break;
                case "--epochs": epochs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--accumulate": accumulate = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--shard": shard = true; break;
                case "--output": output = Path.GetFullPath(Value()); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"No folder '{data}': pass --data <folder with one sub-folder of images per person> (default: ../shared/datasets/orl).");
            return 1;
        }

        var ml = new MLContext(seed: 1);
        var people = Directory.GetDirectories(data).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var trainingPeople = people.Take(people.Count * 3 / 4).ToHashSet();
        var unseenPeople = people.Skip(trainingPeople.Count).ToHashSet();
        var images = ml.FaceRecognition().Data.LoadImageFolder(data, new ImageFolderOptions { IdentityFilter = trainingPeople.Contains, MinimumImagesPerIdentity = 2 });
        var training = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(images).Transform(images);
        var loss = FaceLossHeads.CreateSmallDataOptions(head);
        var options = new FaceEmbeddingTrainer.Options
        {
            BackboneWidth = 8, EmbeddingSize = 64, Loss = loss, Epochs = epochs, BatchSize = 32, LearningRate = 0.05,
            LearningRateSchedule = LearningRateSchedule.Cosine, WarmupEpochs = 1, Seed = 7, NumberOfThreads = threads,
            // Auto: MPI under mpirun -np N (N > 1), one process otherwise.
            Distributed = DistributedMode.Auto, ShardClassWeights = shard, GradientAccumulationSteps = accumulate,
            Progress = new EpochReporter(epochs),
        };
        var pipeline = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 46, 56))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red,
                scaleImage: 1 / 127.5f, offsetImage: 127.5f)) // pixels in [-1, 1]
            .Append(ml.FaceRecognition().Trainers.Embedding(options));

        var clock = Stopwatch.StartNew();
        var model = pipeline.Fit(training);
        Console.WriteLine($"rank {DistributedTraining.Rank} of {DistributedTraining.RankCount}: trained {loss.HeadName} on {trainingPeople.Count} people " +
            $"in {clock.Elapsed.TotalSeconds:F1} s{(shard ? ", class weights sharded" : "")}.");
        if (!DistributedTraining.IsMainProcess) return 0; // rank 0 alone verifies and saves

        var unseen = ml.Data.CreateEnumerable<FaceImageRow>(
            ml.FaceRecognition().Data.LoadImageFolder(data, new ImageFolderOptions { IdentityFilter = unseenPeople.Contains, MinimumImagesPerIdentity = 2 }),
            reuseRowObject: false).ToList();
        var pairs = ml.Data.LoadFromEnumerable(AllPairs(unseen));
        var embedded = ml.FaceRecognition().Transforms.EmbedPairs(model, pairs).Transform(pairs);
        var scorer = ml.FaceRecognition().Transforms.ScorePairs().Fit(embedded);
        var metrics = ml.FaceRecognition().EvaluateVerification(scorer.Transform(embedded));
        Console.WriteLine($"Verification of {unseenPeople.Count} unseen people, {metrics.SamePairs} + {metrics.DifferentPairs} pairs: " +
            $"accuracy {metrics.Accuracy:P2} ± {metrics.AccuracyStdDev:P2}, AUC {metrics.Auc:F4}.");
        Directory.CreateDirectory(output);
        string path = Path.Combine(output, "face-model.zip");
        ml.FaceRecognition().SaveModel(model, images.Schema, path);
        Console.WriteLine($"Saved {path} (image -> embedding).");
        return 0;
    }

    /// <summary>Every pair of the images: the same person's and different people's.</summary>
    private static IEnumerable<FacePairRow> AllPairs(List<FaceImageRow> images)
    {
        for (int i = 0; i < images.Count; i++)
            for (int j = i + 1; j < images.Count; j++)
                yield return new FacePairRow { ImagePath1 = images[i].ImagePath, ImagePath2 = images[j].ImagePath, IsSame = images[i].Identity == images[j].Identity };
    }

    /// <summary>Prints one line per epoch (progress reaches rank 0 only).</summary>
    private sealed class EpochReporter(int epochs) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Step % (p.TotalSteps / epochs) == 0)
                Console.WriteLine($"  epoch {p.Epoch}/{p.Epochs}: loss {p.EpochLoss:F3}, {p.ImagesPerSecond:F0} images/s (every rank's)");
        }
    }
}
