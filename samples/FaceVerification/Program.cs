using Microsoft.ML.FaceLoss.Backbones;

namespace FaceVerification;

/// <summary>
/// Trains a face-embedding model, measures verification of people it never saw, saves it, and uses
/// the saved model to verify a pair and identify a face. Default data: synthetic faces (no download).
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: FaceVerification [--data <folder of people>] [--pairs <pairs.txt|pairs.csv>] [--head CosFace] [--backbone SmallCnn]\n" +
        "                        [--epochs 15] [--size 48] [--width 16] [--grey] [--people 300] [--images 10]\n" +
        "                        [--output <folder>] [--no-progress] [--onnx <folder>]\n" +
        "       FaceVerification pretrained verify <photo1> <photo2> [--models <face-api model folder>]\n" +
        "       FaceVerification pretrained fine-tune --data <folder of people> [--people 40] [--min-images 5] [--max-images 20] [--epochs 3]\n" +
        "                        [--head CosFace] [--frozen-stages 3] [--models <folder>] [--output <folder>] [--no-progress]";

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "pretrained") return Pretrained(args[1..]);
        var options = new SampleOptions();
        var training = options.Training;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--data": options = options with { Data = Path.GetFullPath(Value()) }; break;
                    case "--pairs": options = options with { Pairs = Path.GetFullPath(Value()) }; break;
                    case "--output": options = options with { Output = Path.GetFullPath(Value()) }; break;
                    case "--onnx": options = options with { OnnxFolder = Path.GetFullPath(Value()) }; break;
                    case "--people": options = options with { SyntheticPeople = int.Parse(Value()) }; break;
                    case "--head": training = training with { Head = Value() }; break;
                    case "--backbone": training = training with { Backbone = Enum.Parse<FaceBackbone>(Value(), ignoreCase: true) }; break;
                    case "--epochs": training = training with { Epochs = int.Parse(Value()) }; break;
                    case "--size": training = training with { ImageSize = int.Parse(Value()) }; break;
                    case "--width": training = training with { Width = int.Parse(Value()) }; break;
                    case "--images": options = options with { SyntheticImages = int.Parse(Value()) }; break;
                    case "--grey": training = training with { Grey = true }; break;
                    case "--no-progress": options = options with { ShowProgress = false }; break;
                    default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (options.Data is not null && !Directory.Exists(options.Data))
        {
            Console.Error.WriteLine($"No folder '{options.Data}'. --data needs a folder with one sub-folder of images per person.");
            return 1;
        }
        FaceVerificationApp.Run(options with { Training = training });
        return 0;
    }

    /// <summary>The pretrained path: <c>verify</c> two photos, or <c>fine-tune</c> on a folder of people.</summary>
    private static int Pretrained(string[] args)
    {
        var options = new PretrainedOptions();
        var photos = new List<string>();
        try
        {
            if (args.Length == 0 || args[0] is not ("verify" or "fine-tune")) throw new ArgumentException("pretrained needs 'verify' or 'fine-tune'.");
            for (int i = 1; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--models": options = options with { Models = Path.GetFullPath(Value()) }; break;
                    case "--data": options = options with { Data = Path.GetFullPath(Value()) }; break;
                    case "--output": options = options with { Output = Path.GetFullPath(Value()) }; break;
                    case "--people": options = options with { People = int.Parse(Value()) }; break;
                    case "--min-images": options = options with { MinimumImages = int.Parse(Value()) }; break;
                    case "--max-images": options = options with { MaximumImages = int.Parse(Value()) }; break;
                    case "--epochs": options = options with { Epochs = int.Parse(Value()) }; break;
                    case "--head": options = options with { Head = Value() }; break;
                    case "--frozen-stages": options = options with { FrozenStages = int.Parse(Value()) }; break;
                    case "--no-progress": options = options with { ShowProgress = false }; break;
                    case var photo when !photo.StartsWith("--") && args[0] == "verify": photos.Add(Path.GetFullPath(photo)); break;
                    default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
                }
            }
            if (args[0] == "verify" && photos.Count != 2) throw new ArgumentException($"verify needs two photos, got {photos.Count}.");
            if (args[0] == "fine-tune" && options.Data is null) throw new ArgumentException("fine-tune needs --data <folder with one sub-folder of photos per person>.");
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (!PretrainedModels.HasFaceRecognitionModel(options.Models) || !PretrainedModels.HasDetectionModels(options.Models))
        {
            Console.Error.WriteLine($"face-api's model files are not in '{options.Models ?? PretrainedModels.DefaultFolder}'. Copy the 'model/' folder of the npm package " +
                "@vladmandic/face-api 1.7.15 there (or pass --models, or set FACELOSS_MODELS).");
            return 1;
        }
        foreach (var photo in photos.Where(p => !File.Exists(p)))
        {
            Console.Error.WriteLine($"No photo '{photo}'.");
            return 1;
        }
        if (args[0] == "verify") return PretrainedApp.Verify(photos[0], photos[1], options.Models).FaceFound.All(f => f) ? 0 : 1;
        PretrainedApp.FineTune(options);
        return 0;
    }
}
