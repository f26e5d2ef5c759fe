using Microsoft.ML;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Image;

namespace FaceVerification;

public static partial class FaceModel
{
    /// <summary>How the sample trains: image size, network and head.</summary>
    public sealed record TrainingSettings(int ImageHeight = 56, int ImageWidth = 46, bool Grey = true, int Epochs = 15,
        int EmbeddingSize = 64, int BackboneWidth = 8, int Seed = 7);

    /// <summary>
    /// The pipeline: identity -> key, load (PGM too), resize, pixels in [-1, 1], then train an
    /// embedding with CosFace-like margins (ArcFace with s = 16, m = 0.2 suits small data sets).
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext ml, TrainingSettings settings)
        => ml.Transforms.Conversion.MapValueToKey("Label", "Identity")
            .Append(ml.FaceRecognition().Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.Transforms.ResizeImages("Image", settings.ImageWidth, settings.ImageHeight))
            .Append(ml.Transforms.ExtractPixels("Features", "Image",
                colorsToExtract: settings.Grey ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
                scaleImage: 1 / 127.5f, offsetImage: -127.5f))
            .Append(ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
            {
                EmbeddingSize = settings.EmbeddingSize,
                BackboneWidth = settings.BackboneWidth,
                Loss = new ArcFaceLoss.Options { Scale = 16, Margin = 0.2 },
                Epochs = settings.Epochs,
                BatchSize = 32,
                LearningRate = 0.05,
                Seed = settings.Seed,
            }));

    /// <summary>Trains on <paramref name="training"/> and saves the model to <paramref name="modelPath"/>.</summary>
    public static ITransformer Train(MLContext ml, IDataView training, TrainingSettings settings, string modelPath)
    {
        var model = BuildPipeline(ml, settings).Fit(training);
        ml.FaceRecognition().SaveModel(model, training.Schema, modelPath);
        return model;
    }
}
