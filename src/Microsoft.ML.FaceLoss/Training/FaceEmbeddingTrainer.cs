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
        // ---- Columns and input ----

        /// <summary>The input column of planar pixels, a known-size vector of <see cref="float"/>. Default: <c>Features</c>.</summary>
        public string FeatureColumnName = DefaultColumnNames.Features;

        /// <summary>The key-typed identity column (for example from <c>MapValueToKey</c>). Default: <c>Label</c>.</summary>
        public string LabelColumnName = DefaultColumnNames.Label;

        /// <summary>The added column of L2-normalized embeddings. Default: <c>Embedding</c>.</summary>
        public string OutputColumnName = "Embedding";

        /// <summary>Colour channels C of the images (1 grey, 3 RGB); 0 takes them from the feature column's dimensions. Default: 0.</summary>
        public int ImageChannels;

        /// <summary>Image height H in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageHeight;

        /// <summary>Image width W in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageWidth;

        // ---- Network ----

        /// <summary>The backbone network. Default: <see cref="FaceBackbone.SmallCnn"/>.</summary>
        public FaceBackbone Backbone = FaceBackbone.SmallCnn;

        /// <summary>
        /// The channel count of the backbone's first stage (later stages multiply it); 0 for the
        /// backbone's own (SmallCnn 16, LeNet++ 32, IResNet 64, MobileFaceNet 64). Default: 0.
        /// </summary>
        public int BackboneWidth;

        /// <summary>The stride of the IResNet stem, 1 or 2; 0 chooses 1 for inputs of 96 pixels and more, 2 below. Default: 0.</summary>
        public int StemStride;

        /// <summary>A backbone of your own (see <see cref="BackboneFactory"/>); sets <see cref="Backbone"/> to Custom. Default: null.</summary>
        public BackboneFactory? CustomBackbone;

        /// <summary>The length D of the embedding. Default: 128.</summary>
        public int EmbeddingSize = 128;

        /// <summary>The dropout probability of the neck before the embedding layer, in [0, 1). Default: 0.</summary>
        public double DropoutRate;

        // ---- Loss ----

        /// <summary>The loss head and its parameters. Default: ArcFace with s = 64, m = 0.5.</summary>
        public FaceLossOptions Loss = new ArcFaceLoss.Options();

        /// <summary>
        /// Epochs trained with plain softmax before the chosen head takes over (it then starts from
        /// the softmax class weights), as practitioners start margin heads. Default: 0.
        /// </summary>
        public int SoftmaxWarmupEpochs;

        /// <summary>K, the images of one identity in a batch for pair and triplet heads, at least 2. Default: 4.</summary>
        public int ImagesPerIdentity = 4;

        // ---- Optimisation ----

        /// <summary>Passes over the training data. Default: 10.</summary>
        public int Epochs = 10;

        /// <summary>
        /// Images per training step. Default: 64. Pair and triplet heads get identity-balanced
        /// batches of BatchSize / <see cref="ImagesPerIdentity"/> identities (P) with K images each.
        /// </summary>
        public int BatchSize = 64;

        /// <summary>The optimiser. Default: <see cref="FaceOptimizer.Sgd"/>.</summary>
        public FaceOptimizer Optimizer = FaceOptimizer.Sgd;

        /// <summary>The base learning rate. Default: 0.1 (for AdamW choose about 1e-3).</summary>
        public double LearningRate = 0.1;

        /// <summary>The momentum of SGD, in [0, 1). Default: 0.9.</summary>
        public double Momentum = 0.9;

        /// <summary>Whether SGD uses Nesterov momentum. Default: false.</summary>
        public bool Nesterov;

        /// <summary>The weight decay (L2 for SGD, decoupled for AdamW), on the backbone and the class weights. Default: 5e-4.</summary>
        public double WeightDecay = 5e-4;

        /// <summary>AdamW's beta1. Default: 0.9.</summary>
        public double AdamBeta1 = 0.9;

        /// <summary>AdamW's beta2. Default: 0.999.</summary>
        public double AdamBeta2 = 0.999;

        /// <summary>The learning-rate schedule after the warm-up. Default: <see cref="LearningRateSchedule.Constant"/>.</summary>
        public LearningRateSchedule LearningRateSchedule = LearningRateSchedule.Constant;

        /// <summary>For the step schedule: the epochs after which the rate is multiplied by <see cref="LearningRateDecay"/>. Default: none.</summary>
        public int[] LearningRateMilestones = Array.Empty<int>();

        /// <summary>For the step schedule: the factor at each milestone, in (0, 1]. Default: 0.1.</summary>
        public double LearningRateDecay = 0.1;

        /// <summary>For the cosine schedule: the rate at the last step. Default: 0.</summary>
        public double MinimumLearningRate;

        /// <summary>Epochs (fractions allowed) over which the rate rises linearly from near 0 to the base rate. Default: 0.</summary>
        public double WarmupEpochs;

        /// <summary>The largest L2 norm of all gradients together (they are scaled down beyond it); 0 for no clipping. Default: 0.</summary>
        public double GradientClipNorm;

        // ---- Data ----

        /// <summary>
        /// Whether the training rows are read once into memory (fast; needed by pair and triplet
        /// heads); false reads them from the data view in every epoch, for data that does not fit. Default: true.
        /// </summary>
        public bool InMemory = true;

        /// <summary>Whether training images are flipped left-right at random. Default: true.</summary>
        public bool HorizontalFlip = true;

        /// <summary>The padding in pixels of a random crop (the image shifted by up to this much, zero filled); 0 for none. Default: 0.</summary>
        public int RandomCropPadding;

        // ---- Validation ----

        /// <summary>
        /// Images of identities not in the training data (same feature column, key-typed label column)
        /// for per-epoch verification; see <c>FaceEmbeddingTransformer.TrainingHistory</c>. Default: null.
        /// </summary>
        public IDataView? ValidationData;

        /// <summary>The share of the training identities held out for validation instead (seeded), in [0, 1). Default: 0.</summary>
        public double ValidationIdentityFraction;

        /// <summary>Stop after this many epochs without a better validation accuracy; 0 never stops early. Default: 0.</summary>
        public int EarlyStoppingPatience;

        /// <summary>Whether the returned model has the weights of the best validation epoch (with validation data). Default: true.</summary>
        public bool KeepBestEpoch = true;

        // ---- Checkpoints, progress, control ----

        /// <summary>
        /// A folder for checkpoints; <see cref="Fit"/> resumes from the one there. On the CPU a resumed
        /// run ends with the same weights as an uninterrupted one. Default: null (no checkpoints).
        /// </summary>
        public string? CheckpointFolder;

        /// <summary>Also write a checkpoint every this many steps (one is written at each epoch's end); 0 for epoch ends only. Default: 0.</summary>
        public int CheckpointEverySteps;

        /// <summary>Receives a <see cref="TrainingProgress"/> after every step. Default: null.</summary>
        public IProgress<TrainingProgress>? Progress;

        /// <summary>Stops training after the current step (writing a checkpoint where a folder is set) with an <see cref="OperationCanceledException"/>. Default: none.</summary>
        public CancellationToken Cancellation;

        /// <summary>Torch's CPU threads during training; null leaves torch's choice. Default: null.</summary>
        public int? NumberOfThreads;

        /// <summary>The seed of weight initialisation, dropout, sampling and augmentation; null draws it from the <see cref="MLContext"/>'s seed. Default: null.</summary>
        public int? Seed;

        /// <summary>Images per forward pass when the trained transformer embeds a data view. Default: 64.</summary>
        public int InferenceBatchSize = 64;

        /// <summary>Whether the trained transformer embeds each image with its mirror image (the flip test). Default: false.</summary>
        public bool FlipTest;
    }

    private readonly IHost _host;
    private readonly MLContext? _mlContext;
    private readonly Options _options;

    internal FaceEmbeddingTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(FaceEmbeddingTrainer));
        _mlContext = env as MLContext;
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
        ArgumentOutOfRangeException.ThrowIfNegative(o.BackboneWidth, nameof(Options.BackboneWidth));
        if (o.StemStride is not (0 or 1 or 2))
            throw new ArgumentOutOfRangeException(nameof(Options.StemStride), o.StemStride, "StemStride must be 0 (automatic), 1 or 2.");
        if (o.Backbone == FaceBackbone.Custom && o.CustomBackbone is null)
            throw new ArgumentException("Backbone is Custom but CustomBackbone is not set.", nameof(Options.CustomBackbone));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.EmbeddingSize, 1, nameof(Options.EmbeddingSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Epochs, 1, nameof(Options.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.BatchSize, 2, nameof(Options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ImagesPerIdentity, 2, nameof(Options.ImagesPerIdentity));
        ArgumentOutOfRangeException.ThrowIfNegative(o.SoftmaxWarmupEpochs, nameof(Options.SoftmaxWarmupEpochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.InferenceBatchSize, 1, nameof(Options.InferenceBatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(o.RandomCropPadding, nameof(Options.RandomCropPadding));
        ArgumentOutOfRangeException.ThrowIfNegative(o.EarlyStoppingPatience, nameof(Options.EarlyStoppingPatience));
        ArgumentOutOfRangeException.ThrowIfNegative(o.CheckpointEverySteps, nameof(Options.CheckpointEverySteps));
        if (o.NumberOfThreads is < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.NumberOfThreads), o.NumberOfThreads, "NumberOfThreads must be at least 1, or null.");
        Range(o.DropoutRate, 0, 1, nameof(Options.DropoutRate));
        Range(o.Momentum, 0, 1, nameof(Options.Momentum));
        Range(o.AdamBeta1, 0, 1, nameof(Options.AdamBeta1));
        Range(o.AdamBeta2, 0, 1, nameof(Options.AdamBeta2));
        Range(o.ValidationIdentityFraction, 0, 1, nameof(Options.ValidationIdentityFraction));
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(Options.LearningRate), o.LearningRate, "LearningRate must be a finite number greater than 0.");
        if (!(o.WeightDecay >= 0) || !double.IsFinite(o.WeightDecay))
            throw new ArgumentOutOfRangeException(nameof(Options.WeightDecay), o.WeightDecay, "WeightDecay must be a finite number at or above 0.");
        if (!(o.LearningRateDecay > 0 && o.LearningRateDecay <= 1))
            throw new ArgumentOutOfRangeException(nameof(Options.LearningRateDecay), o.LearningRateDecay, "LearningRateDecay must lie in (0, 1].");
        if (!(o.MinimumLearningRate >= 0 && o.MinimumLearningRate <= o.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(Options.MinimumLearningRate), o.MinimumLearningRate, "MinimumLearningRate must lie in [0, LearningRate].");
        if (!(o.WarmupEpochs >= 0) || !double.IsFinite(o.WarmupEpochs))
            throw new ArgumentOutOfRangeException(nameof(Options.WarmupEpochs), o.WarmupEpochs, "WarmupEpochs must be a finite number at or above 0.");
        if (!(o.GradientClipNorm >= 0) || !double.IsFinite(o.GradientClipNorm))
            throw new ArgumentOutOfRangeException(nameof(Options.GradientClipNorm), o.GradientClipNorm, "GradientClipNorm must be a finite number at or above 0.");
        if (o.LearningRateMilestones is null || o.LearningRateMilestones.Any(m => m < 1))
            throw new ArgumentOutOfRangeException(nameof(Options.LearningRateMilestones), "LearningRateMilestones must be epochs of at least 1.");
        if (o.ValidationData is not null && o.ValidationIdentityFraction > 0)
            throw new ArgumentException("Give either ValidationData or ValidationIdentityFraction, not both.", nameof(Options.ValidationData));
        if (!o.InMemory && o.Loss.NeedsIdentityBalancedBatches)
            throw new ArgumentException($"The {o.Loss.HeadName} head needs identity-balanced batches, which need the rows in memory: set InMemory = true.", nameof(Options.InMemory));

        static void Range(double value, double low, double high, string name)
        {
            if (!(value >= low && value < high))
                throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{low}, {high}).");
        }
    }

    /// <summary>Trains the network on <paramref name="input"/> and returns the embedding transformer.</summary>
    /// <exception cref="OperationCanceledException"><see cref="Options.Cancellation"/> was signalled (a checkpoint was written where a folder is set).</exception>
    public FaceEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (feature, label, config, keyCount) = CheckInput(input.Schema);
        TorchRuntime.EnsureLoaded();
        using var channel = _host.Start("Training");
        void Log(string message) => channel.Info(MessageSensitivity.None, message);
        if (!TorchRuntime.IsGcSafe) channel.Warning(MessageSensitivity.None, TorchRuntime.NotGcSafeWarning);
        int seed = _options.Seed ?? _host.Rand.Next();
        var device = TorchRuntime.ChooseDevice(_mlContext?.GpuDeviceId, _mlContext?.FallbackToCpu ?? false, Log);

        var (source, validation, classCount, images) = PrepareData(input, feature, label, config, keyCount, seed);
        Log($"Training {config.Backbone} ({config.Channels}x{config.Height}x{config.Width} -> {config.EmbeddingSize}) with {_options.Loss} " +
            $"on {images} images of {classCount} identities for {_options.Epochs} epochs ({source.BatchesPerEpoch} steps each) on {device.type}, seed {seed}" +
            (validation is null ? "." : $"; validating on {validation.Count} images of {validation.Labels.Distinct().Count()} other identities."));

        using var threads = TorchRuntime.UseThreads(_options.NumberOfThreads);
        var session = new TrainingSession(_options, config, classCount, seed, device, Log);
        var (network, history) = session.Run(source, validation);
        return new FaceEmbeddingTransformer(_options.FeatureColumnName, _options.OutputColumnName, network, _options.Loss, _options.InferenceBatchSize, _options.FlipTest)
        {
            TrainingHistory = history,
        };
    }

    private (BatchSource Source, TrainingData? Validation, int ClassCount, long Images) PrepareData(IDataView input,
        DataViewSchema.Column feature, DataViewSchema.Column label, EmbeddingNetworkConfig config, int keyCount, int seed)
    {
        TrainingData? validation = null;
        if (_options.ValidationData is { } validationView)
        {
            var (validationFeature, validationLabel, _, validationKeys) = CheckInput(validationView.Schema, "validation ");
            validation = TrainingData.Read(validationView, validationFeature, validationLabel, config.InputLength, validationKeys);
        }
        if (_options.InMemory)
        {
            var data = TrainingData.Read(input, feature, label, config.InputLength, keyCount);
            if (_options.ValidationIdentityFraction > 0)
                (data, validation, _) = data.HoldOutIdentities(_options.ValidationIdentityFraction, seed);
            return (new InMemoryBatchSource(_options, data, config.Channels, config.Height, config.Width, seed), validation, data.ClassCount, data.Count);
        }

        // Streaming: only the labels are read up front (to hold out identities), the pixels in every epoch.
        var labels = ReadLabels(input, label);
        var map = Enumerable.Range(0, keyCount).ToArray();
        int classCount = keyCount;
        if (_options.ValidationIdentityFraction > 0)
        {
            var all = new TrainingData(Array.Empty<float>(), labels, 0, keyCount);
            (_, _, map) = all.HoldOutIdentities(_options.ValidationIdentityFraction, seed);
            classCount = map.Max() + 1;
            var heldOut = map.Select((m, key) => (m, key)).Where(p => p.m < 0).Select(p => (uint)(p.key + 1)).ToHashSet();
            var filtered = new MLContext(seed).Data.FilterByCustomPredicate<KeyRow>(input, row => !heldOut.Contains(row.Label));
            validation = TrainingData.Read(filtered, filtered.Schema[feature.Name], filtered.Schema[label.Name], config.InputLength, keyCount);
        }
        long rows = labels.Count(l => map[l] >= 0);
        var source = new StreamingBatchSource(_options, input, feature, label, map, rows, config.Channels, config.Height, config.Width, seed);
        return (source, validation, classCount, rows);
    }

    private static int[] ReadLabels(IDataView input, DataViewSchema.Column label)
    {
        var labels = new List<int>();
        using var cursor = input.GetRowCursor(new[] { label });
        var getLabel = cursor.GetGetter<uint>(label);
        uint key = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            if (key == 0)
                throw new InvalidOperationException($"Row {cursor.Position} has a missing label (key value 0) in column '{label.Name}'.");
            labels.Add((int)key - 1);
        }
        return labels.ToArray();
    }

    private sealed class KeyRow
    {
        public uint Label { get; set; }
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

    private (DataViewSchema.Column Feature, DataViewSchema.Column Label, EmbeddingNetworkConfig Config, int ClassCount) CheckInput(DataViewSchema schema, string what = "")
    {
        var feature = schema.GetColumnOrNull(_options.FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}input has no feature column '{_options.FeatureColumnName}' (a known-size Vector<Single> of pixels, as ExtractPixels writes it).");
        if (feature.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for {what}feature column '{_options.FeatureColumnName}': expected a known-size Vector<Single>, got {feature.Type}.");
        var label = schema.GetColumnOrNull(_options.LabelColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}input has no label column '{_options.LabelColumnName}' (key-typed identities; make it with MapValueToKey).");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for {what}label column '{_options.LabelColumnName}': expected a key type of UInt32, got {label.Type}. Map the identities to keys with mlContext.Transforms.Conversion.MapValueToKey.");
        if (key.Count > int.MaxValue || key.Count < 2)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}label column '{_options.LabelColumnName}' has {key.Count} identities; at least 2 are needed.");

        var (c, h, w) = ImageShape(vector);
        var custom = _options.CustomBackbone;
        var config = new EmbeddingNetworkConfig(custom is null ? _options.Backbone : FaceBackbone.Custom, c, h, w, _options.EmbeddingSize,
            _options.BackboneWidth, _options.DropoutRate, _options.StemStride, custom?.GetType().AssemblyQualifiedName, custom?.Settings);
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
