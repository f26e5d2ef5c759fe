using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>The ORL pipeline pieces the tests share: s1..s30 to train, s31..s40 unseen.</summary>
public static class Orl
{
    public const int Height = 56, Width = 46;

    public static bool IsTrainingSubject(string identity) => SubjectNumber(identity) <= 30;

    public static bool IsUnseenSubject(string identity) => SubjectNumber(identity) > 30;

    public static int SubjectNumber(string identity) => int.Parse(identity.AsSpan(1));

    public static IDataView Load(MLContext ml, Func<string, bool> filter)
        => ml.FaceRecognition().Data.LoadImageFolder(TestData.OrlRoot, new ImageFolderOptions { IdentityFilter = filter });

    /// <summary>ImagePath -> Image -> resized -> one grey channel in [-1, 1] as "Features".</summary>
    public static IEstimator<ITransformer> Preprocessing(MLContext ml)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", Width, Height))
            .Append(ml.Transforms.ExtractPixels("Features", "Image",
                colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1 / 127.5f, offsetImage: 127.5f));
}
