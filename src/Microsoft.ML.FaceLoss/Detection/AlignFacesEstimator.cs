using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// The estimator of <see cref="AlignFacesTransformer"/>: <see cref="Fit"/> learns nothing, it checks
/// the columns and loads the 68-point landmark net from face-api's model folder.
/// </summary>
public sealed class AlignFacesEstimator : IEstimator<AlignFacesTransformer>
{
    /// <summary>Every setting of face alignment.</summary>
    public sealed class Options
    {
        /// <summary>The image column. Default: <c>Image</c>.</summary>
        public string InputColumnName = "Image";

        /// <summary>The boxes column that <c>DetectFaces</c> added. Default: <c>FaceBoxes</c>.</summary>
        public string BoxesColumnName = "FaceBoxes";

        /// <summary>The added column of aligned faces, images of the template's size. Default: <c>AlignedImage</c>.</summary>
        public string OutputColumnName = "AlignedImage";

        /// <summary>The added Boolean column: whether the row's face was found and aligned. Default: <c>FaceFound</c>.</summary>
        public string FaceFoundColumnName = "FaceFound";

        /// <summary>
        /// The added column of the five alignment points in the source image (x, y of the eye centres,
        /// nose tip, mouth corners; pixels), NaN where no face was found. Default: <c>FacePoints</c>.
        /// </summary>
        public string PointsColumnName = "FacePoints";

        /// <summary>
        /// Where the five points land: <see cref="AlignmentTemplate.Insightface112"/> (112 x 112, for
        /// networks trained on insightface's data) or <see cref="AlignmentTemplate.Dlib150"/> (150 x 150,
        /// dlib's chip, for <c>FaceBackbone.DlibResNet29</c>). Default: Insightface112.
        /// </summary>
        public AlignmentTemplate Template = AlignmentTemplate.Insightface112;

        /// <summary>Which face is aligned when an image holds several. Default: the most confident.</summary>
        public FaceSelection Selection = FaceSelection.MostConfident;

        /// <summary>face-api's model folder; null for <see cref="Backbones.PretrainedModels.DefaultFolder"/>. Default: null.</summary>
        public string? ModelFolder;
    }

    private readonly Options _options;
    private readonly IHostEnvironment _environment;

    internal AlignFacesEstimator(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        AlignFacesTransformer.CheckNames(options);
        (_environment, _options) = (environment, options);
    }

    /// <summary>Checks the image and boxes columns and loads the landmark net.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type.</exception>
    /// <exception cref="FileNotFoundException">The model folder lacks the landmark net's files.</exception>
    public AlignFacesTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        AlignFacesTransformer.CheckColumns(_options.InputColumnName, _options.BoxesColumnName, input.Schema);
        var landmarker = FaceLandmarker.Load(_options.ModelFolder);
        return new AlignFacesTransformer(_options, landmarker, _environment);
    }

    /// <summary>The input schema with the aligned image, FaceFound (Boolean) and points (Vector&lt;Single, 10&gt;) columns added.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => AlignFacesTransformer.OutputShape(_options, inputSchema);
}
