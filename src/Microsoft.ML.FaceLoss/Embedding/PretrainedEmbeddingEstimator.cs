using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>
/// Embeds faces with dlib's pretrained ResNet-29 as it is, without training: <see cref="Fit"/> only
/// checks the input and loads the weights from face-api's model files. The transformer it returns
/// is a <see cref="FaceEmbeddingTransformer"/> like a trained one: saved, loaded, exported the same way.
/// </summary>
public sealed class PretrainedEmbeddingEstimator : IEstimator<FaceEmbeddingTransformer>
{
    private readonly string _featureColumnName;
    private readonly string _outputColumnName;
    private readonly string? _modelFolder;
    private readonly bool _flipTest;

    internal PretrainedEmbeddingEstimator(string featureColumnName, string outputColumnName, string? modelFolder, bool flipTest)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(featureColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        (_featureColumnName, _outputColumnName, _modelFolder, _flipTest) = (featureColumnName, outputColumnName, modelFolder, flipTest);
    }

    private static int InputLength => 3 * DlibResNet29.InputSize * DlibResNet29.InputSize;

    /// <summary>Checks the feature column and returns the pretrained network as a transformer.</summary>
    public FaceEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var feature = input.Schema.GetColumnOrNull(_featureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"The input has no feature column '{_featureColumnName}' (3 x 150 x 150 RGB pixels in [-1, 1], as ExtractPixels writes them).");
        if (feature.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || vector.Size != InputLength)
            throw new ArgumentOutOfRangeException(nameof(input), $"Schema mismatch for feature column '{_featureColumnName}': expected Vector<Single, {InputLength}> (3 x 150 x 150 RGB), got {feature.Type}. Resize or align the faces to 150 x 150.");
        return Create();
    }

    /// <summary>The network with its pretrained weights, in inference mode.</summary>
    internal FaceEmbeddingTransformer Create()
    {
        var config = new EmbeddingNetworkConfig(FaceBackbone.DlibResNet29, 3, DlibResNet29.InputSize, DlibResNet29.InputSize, DlibResNet29.DescriptorSize, 0, 0);
        var network = EmbeddingNetwork.Create(config);
        try
        {
            PretrainedModels.Initialize(network.Module, _modelFolder, frozenStages: 0, _ => { });
            network.Module.eval();
            return new FaceEmbeddingTransformer(_featureColumnName, _outputColumnName, network, null, 64, _flipTest);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The input schema with the 128-D embedding column added; the feature column must be a known-size Vector&lt;Single&gt;.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!MLNetInternals.TryFindColumn(inputSchema, _featureColumnName, out var feature))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no feature column '{_featureColumnName}' (3 x 150 x 150 RGB pixels in [-1, 1], as ExtractPixels writes them).");
        if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for feature column '{_featureColumnName}': expected a known-size Vector<Single>, got {MLNetInternals.TypeString(feature)}.");
        return MLNetInternals.With(inputSchema, MLNetInternals.VectorColumn(_outputColumnName, NumberDataViewType.Single));
    }
}
