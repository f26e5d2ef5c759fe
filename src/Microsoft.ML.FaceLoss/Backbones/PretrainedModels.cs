using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>
/// Where pretrained face networks come from: face-api's model files (npm package
/// <c>@vladmandic/face-api</c> 1.7.15, folder <c>model/</c>), read from a folder, never downloaded.
/// </summary>
public static class PretrainedModels
{
    /// <summary>The manifest of dlib's face recognition network among face-api's model files.</summary>
    public const string FaceRecognitionManifest = "face_recognition_model-weights_manifest.json";

    /// <summary>
    /// The model folder used when none is given: the FACELOSS_MODELS environment variable, else
    /// <c>../shared/models/face-api</c> from the current directory.
    /// </summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FACELOSS_MODELS") is { Length: > 0 } folder
            ? Path.GetFullPath(folder)
            : Path.GetFullPath(Path.Combine("..", "shared", "models", "face-api"));

    /// <summary>Whether <paramref name="folder"/> (null: <see cref="DefaultFolder"/>) holds dlib's face recognition network.</summary>
    public static bool HasFaceRecognitionModel(string? folder = null)
        => File.Exists(Path.Combine(folder ?? DefaultFolder, FaceRecognitionManifest));

    /// <summary>Reads dlib's face recognition weights from a face-api model folder, with a message that names the folder when they are missing.</summary>
    internal static IReadOnlyDictionary<string, TensorFlowJsTensor> ReadFaceRecognitionWeights(string? folder)
        => ReadFaceApiModel(folder, "face_recognition_model", "The DlibResNet29 backbone (FaceEmbeddingTrainer.Options.PretrainedModelFolder)");

    /// <summary>Whether <paramref name="folder"/> (null: <see cref="DefaultFolder"/>) holds face-api's face detector and 68-point landmark net, which <c>DetectFaces</c> and <c>AlignFaces</c> need.</summary>
    public static bool HasDetectionModels(string? folder = null)
        => File.Exists(Path.Combine(folder ?? DefaultFolder, "tiny_face_detector_model-weights_manifest.json"))
            && File.Exists(Path.Combine(folder ?? DefaultFolder, "face_landmark_68_model-weights_manifest.json"));

    /// <summary>Reads the face-api model <paramref name="model"/> (a manifest's stem) from a model folder, with a message that names the folder and <paramref name="user"/> when it is missing.</summary>
    internal static IReadOnlyDictionary<string, TensorFlowJsTensor> ReadFaceApiModel(string? folder, string model, string user)
    {
        string root = Path.GetFullPath(folder ?? DefaultFolder);
        string manifest = Path.Combine(root, model + "-weights_manifest.json");
        if (!File.Exists(manifest))
            throw new FileNotFoundException(
                $"{user} needs face-api's '{model}-weights_manifest.json' and '{model}.bin' in '{root}'. " +
                "Pass the model folder (or set FACELOSS_MODELS) to a copy of the 'model/' folder of the npm package @vladmandic/face-api 1.7.15.", manifest);
        return TensorFlowJsWeights.Read(manifest);
    }

    /// <summary>Gives a freshly made pretrained backbone its weights and freezes the stages asked for; other backbones are left as they are.</summary>
    internal static void Initialize(nn.Module<Tensor, Tensor> module, string? modelFolder, int frozenStages, Action<string> log)
    {
        if (module is not DlibResNet29 dlib) return;
        string folder = Path.GetFullPath(modelFolder ?? DefaultFolder);
        dlib.LoadFaceApiWeights(ReadFaceRecognitionWeights(folder));
        dlib.Freeze(frozenStages);
        log($"DlibResNet29 starts from the pretrained weights in '{folder}'{(frozenStages > 0 ? $", its first {frozenStages} stage(s) frozen" : "")}.");
    }
}
