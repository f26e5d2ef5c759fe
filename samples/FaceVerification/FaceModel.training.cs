using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Image;

namespace FaceVerification;

public static partial class FaceModel
{
    /// <summary>How the sample trains: image size and colour, network, head and schedule.</summary>
    public sealed record TrainingSettings
    {
        public int ImageSize { get; init; } = 48;
        public bool Grey { get; init; }
        public string Head { get; init; } = "CosFace";
        public FaceBackbone Backbone { get; init; } = FaceBackbone.SmallCnn;
        public int Epochs { get; init; } = 15;
        public int EmbeddingSize { get; init; } = 64;
        public int Seed { get; init; } = 7;
        public int Width { get; init; }
    }

    /// <summary>
    /// ImagePath -> image (JPEG, PNG or PGM) -> square resize -> pixels in [-1, 1] -> embedding network
    /// trained with the chosen head. Margin heads get a scale and margin that suit small data sets.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext ml, TrainingSettings settings, IProgress<TrainingProgress>? progress = null)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", settings.ImageSize, settings.ImageSize))
            .Append(ml.Transforms.ExtractPixels("Features", "Image",
                colorsToExtract: settings.Grey ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
                scaleImage: 1 / 127.5f, offsetImage: 127.5f)) // (pixel - 127.5) / 127.5: [-1, 1]
            .Append(ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
            {
                Backbone = settings.Backbone,
                BackboneWidth = settings.Width,
                EmbeddingSize = settings.EmbeddingSize,
                Loss = FaceLossHeads.CreateSmallDataOptions(settings.Head),
                Epochs = settings.Epochs,
                BatchSize = 32,
                LearningRate = 0.05,
                LearningRateSchedule = LearningRateSchedule.Cosine,
                WarmupEpochs = 1,
                Seed = settings.Seed,
                Progress = progress,
            }));

    /// <summary>Trains on <paramref name="training"/> (ImagePath and a key-typed Label) and saves the model (ImagePath -> Embedding).</summary>
    public static TransformerChain<FaceEmbeddingTransformer> Train(MLContext ml, IDataView training, DataViewSchema inputSchema,
        TrainingSettings settings, string modelPath, IProgress<TrainingProgress>? progress = null)
    {
        var model = (TransformerChain<FaceEmbeddingTransformer>)BuildPipeline(ml, settings, progress).Fit(training);
        ml.FaceRecognition().SaveModel(model, inputSchema, modelPath);
        return model;
    }
}
