using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>One pipeline trained on ORL s1..s30, shared by the tests that use a trained model.</summary>
public sealed class OrlModelFixture : IDisposable
{
    public OrlModelFixture()
    {
        if (!TestData.OrlAvailable) return;
        Ml = new MLContext(seed: 1);
        // Identities become keys outside the model, so the saved model needs image paths only.
        var images = Orl.Load(Ml, Orl.IsTrainingSubject);
        var training = Ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(images).Transform(images);
        Unseen = Orl.Load(Ml, Orl.IsUnseenSubject);
        var pipeline = Orl.Preprocessing(Ml)
            .Append(Ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
            {
                EmbeddingSize = 64,
                BackboneWidth = 8,
                Loss = new ArcFaceLoss.Options { Scale = 16, Margin = 0.2 },
                Epochs = 12,
                BatchSize = 32,
                LearningRate = 0.05,
                Seed = 7,
            }));
        Model = pipeline.Fit(training);
        TrainingSchema = training.Schema;
        var preprocessing = Orl.Preprocessing(Ml).Fit(training);
        PreprocessedTraining = Ml.Data.Cache(preprocessing.Transform(training));
        PreprocessedUnseen = Ml.Data.Cache(preprocessing.Transform(Unseen));
    }

    /// <summary>s1..s30 with Features (1 x 56 x 46 grey pixels in [-1, 1]) computed once.</summary>
    public IDataView PreprocessedTraining { get; } = null!;

    /// <summary>s31..s40 with Features computed once.</summary>
    public IDataView PreprocessedUnseen { get; } = null!;

    public MLContext Ml { get; } = new(seed: 1);

    public IDataView Unseen { get; } = null!;

    /// <summary>ImagePath -> ... -> Embedding, trained on s1..s30.</summary>
    public TransformerChain<FaceLoss.Embedding.FaceEmbeddingTransformer> Model { get; } = null!;

    public DataViewSchema TrainingSchema { get; } = null!;

    public FaceLoss.Embedding.FaceEmbeddingTransformer Embedder => Model.LastTransformer;

    public void Dispose() => Model?.LastTransformer.Dispose();
}

/// <summary>A row of an embedded ORL data view.</summary>
public sealed class EmbeddedFace
{
    public string ImagePath { get; set; } = "";

    public string Identity { get; set; } = "";

    public float[] Embedding { get; set; } = Array.Empty<float>();
}
