using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Onnx;

namespace FaceVerification.Onnx;

/// <summary>What the ONNX path decided, beside the TorchSharp path's decisions on the same pairs and probes.</summary>
public sealed record OnnxVerificationResult(int Pairs, int EqualDecisions, double LargestScoreDifference, int Probes, int EqualIdentities)
{
    /// <summary>Whether every decision and identity equals the TorchSharp path's.</summary>
    public bool AllEqual => EqualDecisions == Pairs && EqualIdentities == Probes;
}

/// <summary>
/// The deployment without TorchSharp: image steps (ML.NET and Microsoft.ML.FaceLoss.Inference), the
/// embedding network on ONNX Runtime (ApplyOnnxModel), pair scoring and the gallery; every decision is
/// compared with the TorchSharp path's.
/// </summary>
public static class OnnxVerificationApp
{
    public static OnnxVerificationResult Run(string folder)
    {
        var ml = new MLContext(seed: 1);
        var imageModel = ImageModel(ml, folder);

        // 1:1: the pairs of the training sample, scored with its threshold.
        var pairs = ml.Data.LoadFromEnumerable(ReadCsv(Path.Combine(folder, "pairs.csv"))
            .Select(f => new PairRow { ImagePath1 = f[0], ImagePath2 = f[1], IsSame = bool.Parse(f[2]), TorchScore = float.Parse(f[3], CultureInfo.InvariantCulture), TorchDecision = bool.Parse(f[4]) }).ToList());
        var embedded = ml.FaceRecognition().Transforms.EmbedPairs(imageModel, pairs).Transform(pairs);
        var scorer = ml.FaceRecognition().LoadModel(Path.Combine(folder, "pair-scoring.zip"), out _);
        var scored = ml.Data.CreateEnumerable<ScoredPairRow>(scorer.Transform(embedded), reuseRowObject: false).ToList();
        int equal = scored.Count(p => p.PredictedLabel == p.TorchDecision);
        double largest = scored.Max(p => Math.Abs((double)p.Score - p.TorchScore));
        var metrics = ml.FaceRecognition().EvaluateVerification(scorer.Transform(embedded));
        Console.WriteLine($"Verified {scored.Count} pairs with ONNX Runtime: accuracy {metrics.Accuracy:P2}, AUC {metrics.Auc:F4}; " +
            $"{equal} of {scored.Count} decisions equal the TorchSharp path's (largest score difference {largest.ToString("G2", CultureInfo.InvariantCulture)}).");

        // 1:N: the probes against the saved gallery.
        var probes = ReadCsv(Path.Combine(folder, "probes.csv")).Select(f => new ProbeRow { ImagePath = f[0], Identity = f[1], TorchIdentity = f[2] }).ToList();
        var gallery = ml.FaceRecognition().LoadModel(Path.Combine(folder, "gallery.zip"), out _);
        var identified = ml.Data.CreateEnumerable<IdentifiedRow>(gallery.Transform(imageModel.Transform(ml.Data.LoadFromEnumerable(probes))), reuseRowObject: false).ToList();
        int sameIdentity = identified.Count(p => p.PredictedIdentity == p.TorchIdentity);
        int correct = identified.Count(p => p.PredictedIdentity == p.Identity);
        Console.WriteLine($"Identified {identified.Count} probes against the gallery: rank-1 {(double)correct / identified.Count:P1}; " +
            $"{sameIdentity} of {identified.Count} identities equal the TorchSharp path's.");
        return new OnnxVerificationResult(scored.Count, equal, largest, identified.Count, sameIdentity);
    }

    /// <summary>ImagePath -> the image steps of the trained model -> the ONNX embedding network.</summary>
    public static ITransformer ImageModel(MLContext ml, string folder)
    {
        var imageSteps = ml.Model.Load(Path.Combine(folder, "image-steps.zip"), out var imageSchema);
        string onnxFile = Path.Combine(folder, "face-embedding.onnx");
        string input, output;
        using (var session = new InferenceSession(onnxFile))
        {
            input = session.InputMetadata.Keys.Single();
            output = session.OutputMetadata.Keys.Single();
        }
        var onnx = ml.Transforms.ApplyOnnxModel(new OnnxOptions { ModelFile = onnxFile, InputColumns = new[] { input }, OutputColumns = new[] { output } });
        var empty = imageSteps.Transform(ml.Data.LoadFromEnumerable(Array.Empty<ProbeRow>()));
        return imageSteps.Append(onnx.Fit(empty));
    }

    private static List<string[]> ReadCsv(string path) => File.ReadLines(path).Skip(1).Select(line => line.Split(',')).ToList();

    private sealed class PairRow
    {
        public string ImagePath1 { get; set; } = "";
        public string ImagePath2 { get; set; } = "";
        public bool IsSame { get; set; }
        public float TorchScore { get; set; }
        public bool TorchDecision { get; set; }
    }

    private sealed class ScoredPairRow
    {
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
        public float TorchScore { get; set; }
        public bool TorchDecision { get; set; }
    }

    private sealed class ProbeRow
    {
        public string ImagePath { get; set; } = "";
        public string Identity { get; set; } = "";
        public string TorchIdentity { get; set; } = "";
    }

    private sealed class IdentifiedRow
    {
        public string Identity { get; set; } = "";
        public string PredictedIdentity { get; set; } = "";
        public string TorchIdentity { get; set; } = "";
    }
}
