namespace LossComparison;

/// <summary>Compares every loss head on one data set: 2-D feature pictures, and verification of unseen identities.</summary>
public static class Program
{
    private const string Usage =
        "usage: LossComparison [--idx <folder of MNIST-format IDX files>] [--data <folder of identities>] [--heads Softmax,ArcFace,...]\n" +
        "                      [--epochs 10] [--output <folder>] [--no-plot]\n" +
        "                      [--feature-epochs 40] [--feature-images 60] [--feature-held-out 20] [--compare-epochs 10]";

    public static int Main(string[] args)
    {
        var options = new ComparisonOptions();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--idx": options = options with { Idx = Path.GetFullPath(Value()) }; break;
                    case "--data": options = options with { Data = Path.GetFullPath(Value()) }; break;
                    case "--heads": options = options with { Heads = Value().Split(',', StringSplitOptions.RemoveEmptyEntries) }; break;
                    case "--epochs": int epochs = int.Parse(Value()); options = options with { FeatureEpochs = epochs, CompareEpochs = epochs }; break;
                    case "--output": options = options with { Output = Path.GetFullPath(Value()) }; break;
                    case "--no-plot": options = options with { Plot = false }; break;
                    case "--feature-epochs": options = options with { FeatureEpochs = int.Parse(Value()) }; break;
                    case "--feature-images": options = options with { FeatureImagesPerClass = int.Parse(Value()) }; break;
                    case "--feature-held-out": options = options with { FeatureHeldOutPerClass = int.Parse(Value()) }; break;
                    case "--compare-epochs": options = options with { CompareEpochs = int.Parse(Value()) }; break;
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
        LossComparisonApp.Run(options, Console.Out);
        return 0;
    }
}
