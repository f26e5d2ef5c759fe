using Microsoft.ML;
using Microsoft.ML.FaceLoss;

namespace FaceVerification;

public static partial class FaceModel
{
    private static readonly object Sync = new();
    private static string? _loadedPath;
    private static PredictionEngine<ModelInput, ModelOutput>? _engine;

    /// <summary>The model file <see cref="Predict"/> uses. Default: face-model.zip in the working folder.</summary>
    public static string ModelPath { get; set; } = Path.GetFullPath("face-model.zip");

    /// <summary>Embeds one image with the saved model, which is loaded once.</summary>
    public static ModelOutput Predict(ModelInput input)
    {
        lock (Sync)
        {
            if (_engine is null || _loadedPath != ModelPath)
            {
                var ml = new MLContext();
                var model = ml.FaceRecognition().LoadModel(ModelPath, out _);
                _engine = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
                _loadedPath = ModelPath;
            }
            return _engine.Predict(input);
        }
    }

    /// <summary>The cosine similarity of two images' embeddings: near 1 for one person, lower for two.</summary>
    public static double Similarity(string imagePath1, string imagePath2)
    {
        var a = Predict(new ModelInput { ImagePath = imagePath1 }).Embedding;
        var b = Predict(new ModelInput { ImagePath = imagePath2 }).Embedding;
        double dot = 0;
        for (int i = 0; i < a.Length; i++) dot += a[i] * b[i];
        return dot;
    }
}
