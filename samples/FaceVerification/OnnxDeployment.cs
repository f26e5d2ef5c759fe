using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Onnx;
using Microsoft.ML.FaceLoss.Verification;
using Spectre.Console;

namespace FaceVerification;

/// <summary>
/// What an application without TorchSharp needs to verify and identify faces as this sample did
/// (samples/FaceVerification.Onnx reads it): the embedding network as ONNX, the image steps before it,
/// the pair scoring with its threshold, the gallery, and the TorchSharp path's decisions to compare.
/// </summary>
public static class OnnxDeployment
{
    public const string EmbeddingFile = "face-embedding.onnx";
    public const string ImageStepsFile = "image-steps.zip";
    public const string PairScoringFile = "pair-scoring.zip";
    public const string GalleryFile = "gallery.zip";
    public const string PairsFile = "pairs.csv";
    public const string ProbesFile = "probes.csv";

    /// <summary>Writes the deployment to <paramref name="folder"/>.</summary>
    public static OnnxExportResult Write(MLContext ml, string folder, TransformerChain<FaceEmbeddingTransformer> model, DataViewSchema imageSchema,
        IDataView embeddedPairs, PairScoringTransformer scorer, IDataView galleryEmbeddings, FaceIdentificationTransformer gallery, IReadOnlyList<FaceImageRow> probes)
    {
        Directory.CreateDirectory(folder);
        var export = ml.FaceRecognition().ExportToOnnx(model, Path.Combine(folder, EmbeddingFile));
        // The steps before the embedding (image loading, resize, pixels): ML.NET and Microsoft.ML.FaceLoss.Inference run them.
        var imageSteps = new TransformerChain<ITransformer>(model.Take(model.Count() - 1).ToArray());
        ml.Model.Save(imageSteps, imageSchema, Path.Combine(folder, ImageStepsFile));
        ml.FaceRecognition().SaveModel(scorer, embeddedPairs.Schema, Path.Combine(folder, PairScoringFile));
        ml.FaceRecognition().SaveModel(gallery, galleryEmbeddings.Schema, Path.Combine(folder, GalleryFile));

        // The TorchSharp path's decisions on the same pairs and probes.
        var scored = scorer.Transform(embeddedPairs);
        using (var pairs = new StreamWriter(Path.Combine(folder, PairsFile)))
        {
            pairs.WriteLine("ImagePath1,ImagePath2,IsSame,Score,PredictedLabel");
            foreach (var row in ml.Data.CreateEnumerable<ScoredPair>(scored, reuseRowObject: false))
                pairs.WriteLine(FormattableString.Invariant($"{row.ImagePath1},{row.ImagePath2},{row.IsSame},{row.Score:R},{row.PredictedLabel}"));
        }
        var identified = gallery.Transform(model.Transform(ml.Data.LoadFromEnumerable(probes)));
        using (var writer = new StreamWriter(Path.Combine(folder, ProbesFile)))
        {
            writer.WriteLine("ImagePath,Identity,PredictedIdentity,IdentityScore");
            foreach (var row in ml.Data.CreateEnumerable<IdentifiedProbe>(identified, reuseRowObject: false))
                writer.WriteLine(FormattableString.Invariant($"{row.ImagePath},{row.Identity},{row.PredictedIdentity},{row.IdentityScore:R}"));
        }
        AnsiConsole.MarkupLine($"Exported the embedding network to {Markup.Escape(export.Path)} ({export.FileBytes / 1024.0:F0} KB; ONNX Runtime within " +
            $"{export.MaxDifference.ToString("G2", CultureInfo.InvariantCulture)} of TorchSharp), with the image steps, pair scoring, gallery and TorchSharp's decisions: " +
            $"dotnet run --project samples/FaceVerification.Onnx -c Release -- {Markup.Escape(folder)}");
        return export;
    }

    private sealed class ScoredPair
    {
        public string ImagePath1 { get; set; } = "";
        public string ImagePath2 { get; set; } = "";
        public bool IsSame { get; set; }
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }

    private sealed class IdentifiedProbe
    {
        public string ImagePath { get; set; } = "";
        public string Identity { get; set; } = "";
        public string PredictedIdentity { get; set; } = "";
        public float IdentityScore { get; set; }
    }
}
