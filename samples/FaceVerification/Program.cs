using System.Diagnostics;
using FaceVerification;
using Microsoft.ML;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Data;

// Trains a face-embedding model on people of one folder, measures how well it tells apart people it
// never saw, saves it, and uses the saved model to verify a pair. Default data: the ORL faces of
// ../shared/datasets/orl (s1..s30 train, s31..s40 unseen). Any folder with one sub-folder of images
// per person works: the first three quarters of the people train, the rest are unseen.
var arguments = Arguments.Parse(args);
if (arguments is null) return 2;

string dataFolder = arguments.Data ?? DefaultOrlFolder();
if (!Directory.Exists(dataFolder))
{
    Console.Error.WriteLine($"No face images at '{dataFolder}'. Pass --data <folder with one sub-folder of images per person>,");
    Console.Error.WriteLine("or set FACELOSS_DATASETS to the folder that holds orl/ (the ORL faces, s1..s40).");
    return 1;
}

var ml = new MLContext(seed: 1);
var people = Directory.GetDirectories(dataFolder).Select(Path.GetFileName).OfType<string>()
    .OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal).ToList();
var trainingPeople = people.Take(Math.Max(2, people.Count * 3 / 4)).ToHashSet();
var training = ml.FaceRecognition().Data.LoadImageFolder(dataFolder, new ImageFolderOptions { IdentityFilter = trainingPeople.Contains, MinimumImagesPerIdentity = 2 });
var unseen = ml.FaceRecognition().Data.LoadImageFolder(dataFolder, new ImageFolderOptions { IdentityFilter = p => !trainingPeople.Contains(p), MinimumImagesPerIdentity = 2 });

Console.WriteLine($"Data: {dataFolder}: {trainingPeople.Count} people to train on, {people.Count - trainingPeople.Count} unseen people to verify.");
var settings = new FaceModel.TrainingSettings(Epochs: arguments.Epochs);
var clock = Stopwatch.StartNew();
var model = FaceModel.Train(ml, training, settings, arguments.ModelPath);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s; saved {arguments.ModelPath}.");

// Verification of unseen people: every pair of their images, cosine similarity of the embeddings.
var faces = ml.Data.CreateEnumerable<EmbeddedFace>(model.Transform(unseen), reuseRowObject: false).ToList();
var (auc, meanSame, meanDifferent, threshold, accuracy) = PairStatistics.AllPairs(faces);
Console.WriteLine($"Unseen people, all {faces.Count * (faces.Count - 1) / 2} pairs: AUC {auc:F4}; mean cosine same {meanSame:F3}, different {meanDifferent:F3};");
Console.WriteLine($"  best balanced accuracy {accuracy:P1} at threshold {threshold:F3}.");

// The saved model in use, loaded once by FaceModel.Predict.
FaceModel.ModelPath = arguments.ModelPath;
var first = faces[0];
var samePerson = faces.First(f => f.Identity == first.Identity && f.ImagePath != first.ImagePath);
var otherPerson = faces.First(f => f.Identity != first.Identity);
foreach (var (a, b) in new[] { (first, samePerson), (first, otherPerson) })
{
    double similarity = FaceModel.Similarity(a.ImagePath, b.ImagePath);
    Console.WriteLine($"{Path.GetFileName(Path.GetDirectoryName(a.ImagePath))}/{Path.GetFileName(a.ImagePath)} vs " +
        $"{Path.GetFileName(Path.GetDirectoryName(b.ImagePath))}/{Path.GetFileName(b.ImagePath)}: cosine {similarity:F3} -> " +
        (similarity >= threshold ? "same person" : "different people"));
}
return 0;

static string DefaultOrlFolder()
{
    string? root = Environment.GetEnvironmentVariable("FACELOSS_DATASETS");
    if (!string.IsNullOrEmpty(root)) return Path.Combine(root, "orl");
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "shared", "datasets", "orl");
        if (Directory.Exists(candidate)) return candidate;
    }
    return Path.GetFullPath(Path.Combine("..", "shared", "datasets", "orl"));
}

/// <summary>A face with its embedding.</summary>
internal sealed class EmbeddedFace
{
    public string ImagePath { get; set; } = "";

    public string Identity { get; set; } = "";

    public float[] Embedding { get; set; } = Array.Empty<float>();
}

/// <summary>The command line: --data, --epochs, --model.</summary>
internal sealed record Arguments(string? Data, int Epochs, string ModelPath)
{
    public static Arguments? Parse(string[] args)
    {
        string? data = null, model = "face-model.zip";
        int epochs = 15;
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--data" when value is not null: data = value; i++; break;
                case "--model" when value is not null: model = value; i++; break;
                case "--epochs" when int.TryParse(value, out epochs) && epochs > 0: i++; break;
                default:
                    Console.Error.WriteLine("usage: FaceVerification [--data <folder of people>] [--epochs N] [--model <model.zip>]");
                    return null;
            }
        }
        return new Arguments(data, epochs, Path.GetFullPath(model));
    }
}

/// <summary>Verification figures over every pair of a labelled embedding set.</summary>
internal static class PairStatistics
{
    public static (double Auc, double MeanSame, double MeanDifferent, double Threshold, double BalancedAccuracy) AllPairs(List<EmbeddedFace> faces)
    {
        var scored = new List<(double Score, bool Same)>();
        for (int i = 0; i < faces.Count; i++)
            for (int j = i + 1; j < faces.Count; j++)
                scored.Add((faces[i].Embedding.Zip(faces[j].Embedding).Sum(p => (double)p.First * p.Second), faces[i].Identity == faces[j].Identity));
        scored.Sort((a, b) => b.Score.CompareTo(a.Score));
        int same = scored.Count(s => s.Same), different = scored.Count - same;
        double auc = 0, best = 0, threshold = 1;
        int sameAbove = 0, differentAbove = 0;
        for (int k = 0; k < scored.Count; k++)
        {
            if (scored[k].Same) sameAbove++;
            else { differentAbove++; auc += sameAbove; }
            bool boundary = k + 1 == scored.Count || scored[k + 1].Score < scored[k].Score;
            double balanced = 0.5 * ((double)sameAbove / same + 1 - (double)differentAbove / different);
            if (boundary && balanced > best) { best = balanced; threshold = scored[k].Score; }
        }
        return (auc / ((double)same * different), scored.Where(s => s.Same).Average(s => s.Score),
            scored.Where(s => !s.Same).Average(s => s.Score), threshold, best);
    }
}
