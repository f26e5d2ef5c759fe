using Microsoft.ML.FaceLoss.Detection;

namespace Microsoft.ML.FaceLoss;

/// <summary>
/// Face detection and alignment on <c>mlContext.FaceRecognition().Transforms</c>, with face-api's
/// pretrained networks read from a model folder (never downloaded):
/// <c>LoadImages -> DetectFaces -> AlignFaces -> ExtractPixels -> embedding</c>.
/// </summary>
public static class FaceDetectionCatalog
{
    /// <summary>
    /// Finds the faces of each image with face-api's Tiny Face Detector (input 416, score threshold
    /// 0.5, IoU 0.4): adds the boxes (4 values a face: left, top, width, height; pixels; most
    /// confident first) and their scores. Saved with the model, weights inside.
    /// </summary>
    /// <param name="catalog">The face-recognition transforms: <c>mlContext.FaceRecognition().Transforms</c>.</param>
    /// <param name="inputColumnName">The image column. Default: <c>Image</c>.</param>
    /// <param name="boxesColumnName">The added boxes column. Default: <c>FaceBoxes</c>.</param>
    /// <param name="scoresColumnName">The added scores column. Default: <c>FaceScores</c>.</param>
    /// <param name="modelFolder">face-api's model folder; null for <see cref="Backbones.PretrainedModels.DefaultFolder"/>.</param>
    public static DetectFacesEstimator DetectFaces(this FaceRecognitionCatalog.TransformsCatalog catalog, string inputColumnName = "Image",
        string boxesColumnName = "FaceBoxes", string scoresColumnName = "FaceScores", string? modelFolder = null)
        => catalog.DetectFaces(new DetectFacesEstimator.Options
        {
            InputColumnName = inputColumnName, BoxesColumnName = boxesColumnName, ScoresColumnName = scoresColumnName, ModelFolder = modelFolder,
        });

    /// <summary>Finds the faces of each image, with all options (the detector's input size and thresholds).</summary>
    public static DetectFacesEstimator DetectFaces(this FaceRecognitionCatalog.TransformsCatalog catalog, DetectFacesEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new DetectFacesEstimator(catalog.MLContext, options);
    }

    /// <summary>
    /// Aligns the face of each row (the most confident box of <c>DetectFaces</c>) to a template with
    /// face-api's 68-point landmark net and a five-point similarity (Umeyama): adds the aligned image,
    /// <c>FaceFound</c> (false where there was no face: the image is then missing) and the five
    /// points. Saved with the model, weights inside.
    /// </summary>
    /// <param name="catalog">The face-recognition transforms: <c>mlContext.FaceRecognition().Transforms</c>.</param>
    /// <param name="outputColumnName">The added aligned image column. Default: <c>AlignedImage</c>.</param>
    /// <param name="template">The template; null for <see cref="AlignmentTemplate.Insightface112"/> (use <see cref="AlignmentTemplate.Dlib150"/> for the pretrained DlibResNet29).</param>
    /// <param name="inputColumnName">The image column. Default: <c>Image</c>.</param>
    /// <param name="boxesColumnName">The boxes column of <c>DetectFaces</c>. Default: <c>FaceBoxes</c>.</param>
    /// <param name="modelFolder">face-api's model folder; null for <see cref="Backbones.PretrainedModels.DefaultFolder"/>.</param>
    public static AlignFacesEstimator AlignFaces(this FaceRecognitionCatalog.TransformsCatalog catalog, string outputColumnName = "AlignedImage",
        AlignmentTemplate? template = null, string inputColumnName = "Image", string boxesColumnName = "FaceBoxes", string? modelFolder = null)
        => catalog.AlignFaces(new AlignFacesEstimator.Options
        {
            OutputColumnName = outputColumnName, Template = template ?? AlignmentTemplate.Insightface112, InputColumnName = inputColumnName,
            BoxesColumnName = boxesColumnName, ModelFolder = modelFolder,
        });

    /// <summary>Aligns the face of each row, with all options (column names, which face, template).</summary>
    public static AlignFacesEstimator AlignFaces(this FaceRecognitionCatalog.TransformsCatalog catalog, AlignFacesEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AlignFacesEstimator(catalog.MLContext, options);
    }
}
