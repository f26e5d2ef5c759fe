using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// The estimator of <see cref="DetectFacesTransformer"/>: <see cref="Fit"/> learns nothing, it checks
/// the image column and loads the detector from face-api's model folder.
/// </summary>
public sealed class DetectFacesEstimator : IEstimator<DetectFacesTransformer>
{
    /// <summary>Every setting of face detection.</summary>
    public sealed class Options
    {
        /// <summary>The image column. Default: <c>Image</c>.</summary>
        public string InputColumnName = "Image";

        /// <summary>The added column of boxes, 4 values a face (left, top, width, height; pixels). Default: <c>FaceBoxes</c>.</summary>
        public string BoxesColumnName = "FaceBoxes";

        /// <summary>The added column of scores, one a face. Default: <c>FaceScores</c>.</summary>
        public string ScoresColumnName = "FaceScores";

        /// <summary>face-api's model folder; null for <see cref="Backbones.PretrainedModels.DefaultFolder"/>. Default: null.</summary>
        public string? ModelFolder;

        /// <summary>The detector's settings (input size 416, score threshold 0.5, IoU 0.4 by default).</summary>
        public FaceDetectorOptions Detector = new();
    }

    private readonly Options _options;
    private readonly IHostEnvironment _environment;

    internal DetectFacesEstimator(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Detector);
        options.Detector.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.BoxesColumnName, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ScoresColumnName, nameof(options));
        (_environment, _options) = (environment, options);
    }

    /// <summary>Checks the image column and loads the detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or not an image.</exception>
    /// <exception cref="FileNotFoundException">The model folder lacks the detector's files.</exception>
    public DetectFacesTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var detector = FaceDetector.Load(_options.ModelFolder, _options.Detector);
        try
        {
            var transformer = new DetectFacesTransformer(_options, detector, _environment);
            transformer.GetOutputSchema(input.Schema);
            return transformer;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    /// <summary>The input schema with the boxes and scores columns added (variable-length Vector&lt;Single&gt;).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => DetectFacesTransformer.OutputShape(_options.InputColumnName, _options.BoxesColumnName, _options.ScoresColumnName, inputSchema);
}
