using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Trains a face-embedding network with a chosen loss head. Reads a known-size float vector column
/// of planar pixels (C x H x W, as <c>ExtractPixels</c> writes it) and a key-typed identity label
/// column; <see cref="Fit"/> returns a <see cref="FaceEmbeddingTransformer"/> that adds the
/// L2-normalized embedding column. Make it with <c>mlContext.FaceRecognition().Trainers.Embedding(...)</c>.
/// </summary>
public sealed class FaceEmbeddingTrainer : IEstimator<FaceEmbeddingTransformer>
{
    /// <summary>The options of <see cref="FaceEmbeddingTrainer"/>; every field has a documented default.</summary>
    public sealed class Options
    {
        /// <summary>The input column of planar pixels, a known-size vector of <see cref="float"/>. Default: <c>Features</c>.</summary>
        public string FeatureColumnName = DefaultColumnNames.Features;

        /// <summary>The key-typed identity column (for example from <c>MapValueToKey</c>). Default: <c>Label</c>.</summary>
        public string LabelColumnName = DefaultColumnNames.Label;

        /// <summary>The added column of L2-normalized embeddings. Default: <c>Embedding</c>.</summary>
        public string OutputColumnName = "Embedding";

        /// <summary>Colour channels C of the images; 0 takes them from the feature column's dimensions. Default: 0.</summary>
        public int ImageChannels;

        /// <summary>Image height H in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageHeight;

        /// <summary>Image width W in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageWidth;

        /// <summary>The backbone network. Default: <see cref="FaceBackbone.SmallCnn"/>.</summary>
        public FaceBackbone Backbone = FaceBackbone.SmallCnn;

        /// <summary>The channel count of the backbone's first stage; later stages multiply it. Default: 16.</summary>
        public int BackboneWidth = 16;

        /// <summary>The length D of the embedding. Default: 128.</summary>
        public int EmbeddingSize = 128;

        /// <summary>The dropout probability of the neck before the embedding layer, in [0, 1). Default: 0.</summary>
        public double DropoutRate;

        /// <summary>The loss head and its parameters. Default: ArcFace with s = 64, m = 0.5.</summary>
        public FaceLossOptions Loss = new ArcFaceLoss.Options();

        /// <summary>Passes over the training data. Default: 10.</summary>
        public int Epochs = 10;

        /// <summary>
        /// Images per training step. Default: 64. Pair and triplet heads get identity-balanced
        /// batches of BatchSize / <see cref="ImagesPerIdentity"/> identities (P) with K images each.
        /// </summary>
        public int BatchSize = 64;

        /// <summary>K, the images of one identity in a batch for pair and triplet heads, at least 2. Default: 4.</summary>
        public int ImagesPerIdentity = 4;

        /// <summary>The learning rate of SGD. Default: 0.1.</summary>
        public double LearningRate = 0.1;

        /// <summary>The momentum of SGD, in [0, 1). Default: 0.9.</summary>
        public double Momentum = 0.9;

        /// <summary>The L2 weight decay of SGD, applied to the backbone and the class weights. Default: 5e-4.</summary>
        public double WeightDecay = 5e-4;

        /// <summary>The seed of weight initialisation, dropout and shuffling; null draws it from the <see cref="MLContext"/>'s seed. Default: null.</summary>
        public int? Seed;

        /// <summary>Images per forward pass when the trained transformer embeds a data view. Default: 64.</summary>
        public int InferenceBatchSize = 64;
    }

    private readonly IHost _host;
    private readonly Options _options;

    internal FaceEmbeddingTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(FaceEmbeddingTrainer));
        Validate(options);
        _options = options;
    }

    private static void Validate(Options o)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(o.FeatureColumnName, nameof(Options.FeatureColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.LabelColumnName, nameof(Options.LabelColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.OutputColumnName, nameof(Options.OutputColumnName));
        ArgumentNullException.ThrowIfNull(o.Loss, nameof(Options.Loss));
        ArgumentOutOfRangeException.ThrowIfNegative(o.ImageChannels, nameof(Options.ImageChannels));
        ArgumentOutOfRangeException.ThrowIfNegative(o.ImageHeight, nameof(Options.ImageHeight));
        ArgumentOutOfRangeException.ThrowIfNegative(o.ImageWidth, nameof(Options.ImageWidth));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.BackboneWidth, 1, nameof(Options.BackboneWidth));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.EmbeddingSize, 1, nameof(Options.EmbeddingSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Epochs, 1, nameof(Options.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.BatchSize, 2, nameof(Options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ImagesPerIdentity, 2, nameof(Options.ImagesPerIdentity));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.InferenceBatchSize, 1, nameof(Options.InferenceBatchSize));
        if (!(o.DropoutRate >= 0 && o.DropoutRate < 1))
            throw new ArgumentOutOfRangeException(nameof(Options.DropoutRate), o.DropoutRate, "DropoutRate must lie in [0, 1).");
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(Options.LearningRate), o.LearningRate, "LearningRate must be a finite number greater than 0.");
        if (!(o.Momentum >= 0 && o.Momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(Options.Momentum), o.Momentum, "Momentum must lie in [0, 1).");
        if (!(o.WeightDecay >= 0) || !double.IsFinite(o.WeightDecay))
            throw new ArgumentOutOfRangeException(nameof(Options.WeightDecay), o.WeightDecay, "WeightDecay must be a finite number at or above 0.");
    }

    /// <summary>Trains the network on <paramref name="input"/> and returns the embedding transformer.</summary>
    public FaceEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (feature, label, config, classCount) = CheckInput(input.Schema);
        TorchRuntime.EnsureLoaded();
        using var channel = _host.Start("Training");
        var data = TrainingData.Read(input, feature, label, config.InputLength, classCount);
        int seed = _options.Seed ?? _host.Rand.Next();
        channel.Info(MessageSensitivity.None,
            $"Training {config.Backbone} ({config.Channels}x{config.Height}x{config.Width} -> {config.EmbeddingSize}) with {_options.Loss} on {data.Count} images of {classCount} identities for {_options.Epochs} epochs, seed {seed}.");
        var (network, losses) = TrainingLoop.Run(config, _options, data, seed, message => channel.Info(MessageSensitivity.None, message));
        return new FaceEmbeddingTransformer(_options.FeatureColumnName, _options.OutputColumnName, network, _options.Loss, _options.InferenceBatchSize)
        {
            EpochLosses = losses,
        };
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!MLNetInternals.TryFindColumn(inputSchema, _options.FeatureColumnName, out var feature))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no feature column '{_options.FeatureColumnName}' (a known-size Vector<Single> of pixels, as ExtractPixels writes it).");
        if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for feature column '{_options.FeatureColumnName}': expected a known-size Vector<Single>, got {feature.GetTypeString()}.");
        if (!MLNetInternals.TryFindColumn(inputSchema, _options.LabelColumnName, out var label))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no label column '{_options.LabelColumnName}' (key-typed identities; make it with MapValueToKey).");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for label column '{_options.LabelColumnName}': expected a key type, got {label.GetTypeString()}. Map the identities to keys with mlContext.Transforms.Conversion.MapValueToKey.");
        return MLNetInternals.With(inputSchema, MLNetInternals.VectorColumn(_options.OutputColumnName, NumberDataViewType.Single));
    }

    private (DataViewSchema.Column Feature, DataViewSchema.Column Label, EmbeddingNetworkConfig Config, int ClassCount) CheckInput(DataViewSchema schema)
    {
        var feature = schema.GetColumnOrNull(_options.FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no feature column '{_options.FeatureColumnName}' (a known-size Vector<Single> of pixels, as ExtractPixels writes it).");
        if (feature.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for feature column '{_options.FeatureColumnName}': expected a known-size Vector<Single>, got {feature.Type}.");
        var label = schema.GetColumnOrNull(_options.LabelColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no label column '{_options.LabelColumnName}' (key-typed identities; make it with MapValueToKey).");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for label column '{_options.LabelColumnName}': expected a key type of UInt32, got {label.Type}. Map the identities to keys with mlContext.Transforms.Conversion.MapValueToKey.");
        if (key.Count > int.MaxValue || key.Count < 2)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The label column '{_options.LabelColumnName}' has {key.Count} identities; training needs at least 2.");

        var (c, h, w) = ImageShape(vector);
        var config = new EmbeddingNetworkConfig(_options.Backbone, c, h, w, _options.EmbeddingSize, _options.BackboneWidth, _options.DropoutRate);
        return (feature, label, config, (int)key.Count);
    }

    /// <summary>C, H, W from the options where given, else from the column's dimensions (ExtractPixels writes [C, H, W]).</summary>
    private (int C, int H, int W) ImageShape(VectorDataViewType vector)
    {
        int c = _options.ImageChannels, h = _options.ImageHeight, w = _options.ImageWidth;
        var dims = vector.Dimensions;
        if (c == 0 && h == 0 && w == 0)
        {
            if (dims.Length != 3)
                throw new ArgumentOutOfRangeException(nameof(vector), $"The feature column '{_options.FeatureColumnName}' has dimensions [{string.Join(", ", dims)}], not [C, H, W]; set ImageChannels, ImageHeight and ImageWidth in the options.");
            (c, h, w) = (dims[0], dims[1], dims[2]);
        }
        else if (c == 0 || h == 0 || w == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vector), "Set all three of ImageChannels, ImageHeight and ImageWidth, or none.");
        }
        if ((long)c * h * w != vector.Size)
            throw new ArgumentOutOfRangeException(nameof(vector), $"The feature column '{_options.FeatureColumnName}' has {vector.Size} values, but C x H x W = {c} x {h} x {w} = {(long)c * h * w}.");
        return (c, h, w);
    }
}
