namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>Where the shared data sets and golden files are: FACELOSS_DATASETS / FACELOSS_GOLDEN, else ../shared beside the repository.</summary>
public static class TestData
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string DatasetsRoot { get; } =
        Environment.GetEnvironmentVariable("FACELOSS_DATASETS") is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "datasets"));

    public static string OrlRoot => Path.Combine(DatasetsRoot, "orl");

    public static bool OrlAvailable => File.Exists(Path.Combine(OrlRoot, "s1", "1.pgm"));

    public static string LfwRoot => Path.Combine(DatasetsRoot, "lfw");

    public static string LfwImages => Path.Combine(LfwRoot, "images_deepfunneled");

    public static bool LfwAvailable => File.Exists(Path.Combine(LfwRoot, "pairs.txt")) && Directory.Exists(LfwImages);

    public static string GoldenFile { get; } =
        Environment.GetEnvironmentVariable("FACELOSS_GOLDEN") is { Length: > 0 } golden
            ? Path.GetFullPath(golden)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "golden", "losses.json"));

    public static bool GoldenAvailable => File.Exists(GoldenFile);

    /// <summary>face-api's model files: FACELOSS_MODELS, else ../shared/models/face-api beside the repository.</summary>
    public static string ModelsRoot { get; } =
        Environment.GetEnvironmentVariable("FACELOSS_MODELS") is { Length: > 0 } models
            ? Path.GetFullPath(models)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "models", "face-api"));

    /// <summary>Whether face-api's face detector and 68-point landmark net are there, with the LFW images the detection tests read.</summary>
    public static bool DetectionAvailable =>
        File.Exists(Path.Combine(ModelsRoot, "tiny_face_detector_model-weights_manifest.json"))
        && File.Exists(Path.Combine(ModelsRoot, "face_landmark_68_model-weights_manifest.json")) && FaceRecognitionModelAvailable && LfwAvailable;

    public static bool FaceRecognitionModelAvailable => File.Exists(Path.Combine(ModelsRoot, "face_recognition_model-weights_manifest.json"));

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MLFaceLoss.sln"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}

/// <summary>A fact that is skipped, with the reason, where the ORL faces are absent.</summary>
public sealed class OrlFactAttribute : FactAttribute
{
    public OrlFactAttribute()
    {
        if (!TestData.OrlAvailable)
            Skip = $"The ORL faces are not at '{TestData.OrlRoot}'; set FACELOSS_DATASETS to the folder that holds orl/.";
    }
}

/// <summary>A theory that is skipped, with the reason, where the ORL faces are absent.</summary>
public sealed class OrlTheoryAttribute : TheoryAttribute
{
    public OrlTheoryAttribute()
    {
        if (!TestData.OrlAvailable)
            Skip = $"The ORL faces are not at '{TestData.OrlRoot}'; set FACELOSS_DATASETS to the folder that holds orl/.";
    }
}

/// <summary>A fact that is skipped, with the reason, where LFW is absent.</summary>
public sealed class LfwFactAttribute : FactAttribute
{
    public LfwFactAttribute()
    {
        if (!TestData.LfwAvailable)
            Skip = $"LFW is not at '{TestData.LfwRoot}'; set FACELOSS_DATASETS to the folder that holds lfw/.";
    }
}

/// <summary>A theory that is skipped, with the reason, where the golden file is absent.</summary>
public sealed class GoldenTheoryAttribute : TheoryAttribute
{
    public GoldenTheoryAttribute()
    {
        if (!TestData.GoldenAvailable)
            Skip = $"The golden file is not at '{TestData.GoldenFile}'; set FACELOSS_GOLDEN to a losses.json.";
    }
}

/// <summary>A fact that is skipped, with the reason, where face-api's face recognition model is absent.</summary>
public sealed class FaceRecognitionModelFactAttribute : FactAttribute
{
    public FaceRecognitionModelFactAttribute()
    {
        if (!TestData.FaceRecognitionModelAvailable)
            Skip = $"face-api's face_recognition_model is not in '{TestData.ModelsRoot}'; set FACELOSS_MODELS to a copy of the model/ folder of @vladmandic/face-api 1.7.15.";
    }
}

public sealed class FaceDetectionFactAttribute : FactAttribute
{
    public FaceDetectionFactAttribute()
    {
        if (!TestData.DetectionAvailable)
            Skip = $"face-api's tiny_face_detector_model, face_landmark_68_model and face_recognition_model in '{TestData.ModelsRoot}' and LFW in '{TestData.LfwRoot}' are needed; set FACELOSS_MODELS and FACELOSS_DATASETS.";
    }
}
