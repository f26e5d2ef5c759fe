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
        "                        [--output <folder>] [--no-progress] [--onnx <folder>]";

    public static int Main(string[] args)
    {
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
}
