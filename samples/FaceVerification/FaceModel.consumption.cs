using Microsoft.ML;
using Microsoft.ML.FaceLoss;

namespace FaceVerification;

public static partial class FaceModel
{
    private static readonly object Sync = new();
    private static (string Path, PredictionEngine<ModelInput, ModelOutput> Engine)? _embedder;
    private static (string Path, PredictionEngine<ModelInput, IdentityOutput> Engine)? _identifier;

    /// <summary>The embedding model <see cref="Predict"/> uses. Default: face-model.zip in the working folder.</summary>
    public static string ModelPath { get; set; } = Path.GetFullPath("face-model.zip");

    /// <summary>The gallery model <see cref="Identify"/> uses. Default: face-gallery.zip in the working folder.</summary>
    public static string GalleryPath { get; set; } = Path.GetFullPath("face-gallery.zip");

    /// <summary>Embeds one image with the saved model, which is loaded once.</summary>
    public static ModelOutput Predict(ModelInput input)
    {
        lock (Sync)
        {
            if (_embedder?.Path != ModelPath) _embedder = (ModelPath, Load<ModelOutput>(ModelPath));
            return _embedder.Value.Engine.Predict(input);
        }
    }

    /// <summary>The cosine similarity of two images: near 1 for one person, lower for two.</summary>
    public static double Similarity(string imagePath1, string imagePath2)
    {
        var a = Predict(new ModelInput { ImagePath = imagePath1 }).Embedding;
        var b = Predict(new ModelInput { ImagePath = imagePath2 }).Embedding;
        double dot = 0;
        for (int i = 0; i < a.Length; i++) dot += a[i] * b[i];
        return dot;
    }

    /// <summary>Who one image shows among the enrolled people ("unknown" below the gallery's threshold), with the saved gallery model.</summary>
    public static IdentityOutput Identify(string imagePath)
    {
        lock (Sync)
        {
            if (_identifier?.Path != GalleryPath) _identifier = (GalleryPath, Load<IdentityOutput>(GalleryPath));
            return _identifier.Value.Engine.Predict(new ModelInput { ImagePath = imagePath });
        }
    }

    private static PredictionEngine<ModelInput, T> Load<T>(string path) where T : class, new()
    {
        var ml = new MLContext();
        return ml.Model.CreatePredictionEngine<ModelInput, T>(ml.FaceRecognition().LoadModel(path, out _));
    }
}
