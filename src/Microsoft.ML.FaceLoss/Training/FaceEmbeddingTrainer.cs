using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Torch;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Trains a face-embedding network with a chosen loss head. Reads a known-size float vector column
/// of planar pixels (C x H x W, as <c>ExtractPixels</c> writes it) and a key-typed identity label
/// column; <see cref="Fit"/> returns a <see cref="FaceEmbeddingTransformer"/> that adds the
/// L2-normalized embedding column. Make it with <c>mlContext.FaceRecognition().Trainers.Embedding(...)</c>.
/// </summary>
public sealed partial class FaceEmbeddingTrainer : IEstimator<FaceEmbeddingTransformer>
{
    private readonly IHost _host;
    private readonly MLContext? _mlContext;
    private readonly TrainingSettings _settings;

    internal FaceEmbeddingTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(FaceEmbeddingTrainer));
        _mlContext = env as MLContext;
        Validate(options);
        _settings = TrainingSettings.From(options); // a copy: later changes to the options do not reach this trainer
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
        if (o.FrozenStages != 0 && (o.Backbone != FaceBackbone.DlibResNet29 || o.CustomBackbone is not null))
            throw new ArgumentException($"FrozenStages ({o.FrozenStages}) applies to the pretrained DlibResNet29 backbone only; set it to 0 for {o.Backbone}.", nameof(Options.FrozenStages));
        if (o.FrozenStages is < 0 or > DlibResNet29.StageCount)
            throw new ArgumentOutOfRangeException(nameof(Options.FrozenStages), o.FrozenStages, $"FrozenStages must lie between 0 and {DlibResNet29.StageCount} (DlibResNet29's stages).");
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
        ArgumentOutOfRangeException.ThrowIfLessThan(o.GradientAccumulationSteps, 1, nameof(Options.GradientAccumulationSteps));
        if (!Enum.IsDefined(o.Distributed))
            throw new ArgumentOutOfRangeException(nameof(Options.Distributed), o.Distributed, "Distributed must be Auto, SingleProcess or Mpi.");
        if (o.ShardClassWeights && o.Loss.ShardingLimitation is { } reason)
            throw new ArgumentException(
                $"The {o.Loss.HeadName} head cannot train with sharded class weights: {reason}. Set ShardClassWeights = false (every rank then " +
                "holds all class weights), or choose a head that can be sharded: " +
                string.Join(", ", FaceLossHeads.Names.Where(n => FaceLossHeads.CreateOptions(n).ShardingLimitation is null)) + ".", nameof(Options.ShardClassWeights));
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
        // One rank of several: rank 0 alone logs; every rank draws rank 0's seed (the batches, the held-out identities).
        var communicator = DistributedTraining.Communicator(_settings.Parallel.Mode);
        void Log(string message)
        {
            if (communicator.Rank == 0) channel.Info(MessageSensitivity.None, message);
        }
        if (!TorchRuntime.IsGcSafe) channel.Warning(MessageSensitivity.None, TorchRuntime.NotGcSafeWarning);
        var control = _settings.Control;
        int seed = communicator.SameOnEveryRank(control.Seed ?? _host.Rand.Next());
        var device = TorchRuntime.ChooseDevice(_mlContext?.GpuDeviceId, _mlContext?.FallbackToCpu ?? false, Log);

        var (source, validation, classCount, images) = PrepareData(input, feature, label, config, keyCount, seed);
        var validator = validation is null ? null : new Validator(validation, _settings.Data, _settings.Head.Loss, seed);
        Log($"Training {config.Backbone} ({config.Channels}x{config.Height}x{config.Width} -> {config.EmbeddingSize}) with {_settings.Head.Loss} " +
            $"on {images} images of {classCount} identities for {_settings.Schedule.Epochs} epochs ({source.BatchesPerEpoch} steps each) on {device.type}, seed {seed}" +
            (validator is null ? "." : $"; validating on {validator.Images} images of {validator.Identities} other identities."));

        WarnIfNotCentred(source, channel);
        using var threads = TorchRuntime.UseThreads(control.Threads);
        var (network, history) = new TrainingRun(_settings, config, classCount, seed, device, Log, communicator).Run(source, validator);
        RefuseCollapsed(network, source, pretrained: config.Backbone == FaceBackbone.DlibResNet29);
        return new FaceEmbeddingTransformer(_settings.Columns.Feature, _settings.Columns.Output, network, _settings.Head.Loss,
            _settings.Inference.BatchSize, _settings.Inference.FlipTest)
        {
            TrainingHistory = history,
        };
    }

    /// <summary>
    /// Networks train on pixels centred on zero (in [-1, 1], as insightface and the papers feed them).
    /// ExtractPixels computes (pixel - offsetImage) * scaleImage, so offsetImage: -127.5f (a sign slip
    /// easy to make) gives pixels in [1, 3]; raw pixels are in [0, 255]. Warns, with the cure, when the
    /// first batch's mean lies outside [-1, 1].
    /// </summary>
    private void WarnIfNotCentred(BatchSource source, IChannel channel)
    {
        var batch = source.Epoch(1, 0, _ => true, CancellationToken.None).First();
        var pixels = batch.Pixels; // exactly Count rows (the pools keep buffers by row count)
        double sum = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in pixels)
        {
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        source.Release(batch);
        double mean = pixels.Length == 0 ? 0 : sum / pixels.Length;
        if (Math.Abs(mean) <= 1) return;
        channel.Warning(MessageSensitivity.None,
            $"The training pixels in column '{_settings.Columns.Feature}' have mean {mean:G3} (from {min:G3} to {max:G3}): far from centred on 0. " +
            "Networks train best on pixels in [-1, 1]: ExtractPixels computes (pixel - offsetImage) * scaleImage, so use offsetImage: 127.5f, scaleImage: 1 / 127.5f.");
    }

    /// <summary>
    /// A run can end with finite losses and a network that maps every image to zero (SGD at learning
    /// rate 1e4 does): such a model would give no usable embedding, so Fit refuses to return it.
    /// </summary>
    private void RefuseCollapsed(EmbeddingNetwork network, BatchSource source, bool pretrained)
    {
        var batch = source.Epoch(1, 0, _ => true, CancellationToken.None).First();
        int degenerate = network.CountDegenerateEmbeddings(batch.Pixels, batch.Count);
        // A pretrained network starts with embeddings of different images far apart (dlib's: cosines near
        // 0.95); if they all end at one point, fine-tuning destroyed it. (Not checked for networks trained
        // from scratch: a random LeNet++ already maps every image into one narrow cone.)
        double smallestCosine = pretrained && degenerate == 0 && batch.Count >= 2 ? network.SmallestPairwiseCosine(batch.Pixels, batch.Count) : 0;
        int images = batch.Count;
        source.Release(batch);
        if (degenerate == 0 && smallestCosine < 1 - 1e-6) return;
        network.Dispose();
        string what = degenerate > 0
            ? $"embeddings that are not unit vectors (all zeros or not finite) for {degenerate} of {images} training images"
            : $"one embedding for all of {images} different training images (every pair's cosine similarity above 0.999999)";
        throw new InvalidOperationException(
            $"Training ended with a network that gives {what}: the weights collapsed. Usual cures: a lower LearningRate (it is {_settings.Optimizer.LearningRate:G4}); " +
            "GradientClipNorm (a network without batch norm, such as the pretrained DlibResNet29, needs it: 1 works); a warm-up (WarmupEpochs). No model was returned.");
    }

    private (BatchSource Source, TrainingData? Validation, int ClassCount, long Images) PrepareData(IDataView input,
        DataViewSchema.Column feature, DataViewSchema.Column label, EmbeddingNetworkConfig config, int keyCount, int seed)
    {
        var validationSettings = _settings.Validation;
        TrainingData? validation = null;
        if (validationSettings.Data is { } validationView)
        {
            var (validationFeature, validationLabel, _, validationKeys) = CheckInput(validationView.Schema, "validation ");
            validation = TrainingData.Read(validationView, validationFeature, validationLabel, config.InputLength, validationKeys);
        }
        if (_settings.Data.InMemory)
        {
            var data = TrainingData.Read(input, feature, label, config.InputLength, keyCount);
            if (validationSettings.IdentityFraction > 0)
                (data, validation, _) = data.HoldOutIdentities(validationSettings.IdentityFraction, seed);
            return (new InMemoryBatchSource(_settings.Data, _settings.Head.Loss, data, config.Channels, config.Height, config.Width, seed), validation, data.ClassCount, data.Count);
        }

        // Streaming: only the labels are read up front (to hold out identities), the pixels in every epoch.
        var labels = ReadLabels(input, label, keyCount);
        var map = Enumerable.Range(0, keyCount).ToArray();
        int classCount = keyCount;
        if (validationSettings.IdentityFraction > 0)
        {
            var all = new TrainingData(Array.Empty<float>(), labels, 0, keyCount);
            (_, _, map) = all.HoldOutIdentities(validationSettings.IdentityFraction, seed);
            classCount = map.Max() + 1;
            var heldOut = map.Select((m, key) => (m, key)).Where(p => p.m < 0).Select(p => (uint)(p.key + 1)).ToHashSet();
            var filtered = new MLContext(seed).Data.FilterByCustomPredicate<KeyRow>(input, row => !heldOut.Contains(row.Label));
            validation = TrainingData.Read(filtered, filtered.Schema[feature.Name], filtered.Schema[label.Name], config.InputLength, keyCount);
        }
        long rows = labels.Count(l => map[l] >= 0);
        var source = new StreamingBatchSource(_settings.Data, input, feature, label, map, rows, config.Channels, config.Height, config.Width, seed);
        return (source, validation, classCount, rows);
    }

    private static int[] ReadLabels(IDataView input, DataViewSchema.Column label, int keyCount)
    {
        var labels = new List<int>();
        using var cursor = input.GetRowCursor(new[] { label });
        var getLabel = cursor.GetGetter<uint>(label);
        uint key = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            TrainingData.CheckKey(key, keyCount, cursor.Position, label.Name);
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
        if (!MLNetInternals.TryFindColumn(inputSchema, _settings.Columns.Feature, out var feature))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no feature column '{_settings.Columns.Feature}' (a known-size Vector<Single> of pixels, as ExtractPixels writes it).");
        if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for feature column '{_settings.Columns.Feature}': expected a known-size Vector<Single>, got {MLNetInternals.TypeString(feature)}.");
        if (!MLNetInternals.TryFindColumn(inputSchema, _settings.Columns.Label, out var label))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no label column '{_settings.Columns.Label}' (key-typed identities; make it with MapValueToKey).");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for label column '{_settings.Columns.Label}': expected a key type, got {MLNetInternals.TypeString(label)}. Map the identities to keys with mlContext.Transforms.Conversion.MapValueToKey.");
        return MLNetInternals.With(inputSchema, MLNetInternals.VectorColumn(_settings.Columns.Output, NumberDataViewType.Single));
    }

    private (DataViewSchema.Column Feature, DataViewSchema.Column Label, EmbeddingNetworkConfig Config, int ClassCount) CheckInput(DataViewSchema schema, string what = "")
    {
        var feature = schema.GetColumnOrNull(_settings.Columns.Feature)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}input has no feature column '{_settings.Columns.Feature}' (a known-size Vector<Single> of pixels, as ExtractPixels writes it).");
        if (feature.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for {what}feature column '{_settings.Columns.Feature}': expected a known-size Vector<Single>, got {feature.Type}.");
        var label = schema.GetColumnOrNull(_settings.Columns.Label)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}input has no label column '{_settings.Columns.Label}' (key-typed identities; make it with MapValueToKey).");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for {what}label column '{_settings.Columns.Label}': expected a key type of UInt32, got {label.Type}. Map the identities to keys with mlContext.Transforms.Conversion.MapValueToKey.");
        if (key.Count > int.MaxValue || key.Count < 2)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The {what}label column '{_settings.Columns.Label}' has {key.Count} identities; at least 2 are needed.");

        var (c, h, w) = ImageShape(vector);
        var network = _settings.Network;
        var config = new EmbeddingNetworkConfig(network.Backbone, c, h, w, network.EmbeddingSize, network.Width, network.DropoutRate,
            network.StemStride, network.Custom?.GetType().AssemblyQualifiedName, network.Custom?.Settings);
        return (feature, label, config, (int)key.Count);
    }

    /// <summary>C, H, W from the options where given, else from the column's dimensions (ExtractPixels writes [C, H, W]).</summary>
    private (int C, int H, int W) ImageShape(VectorDataViewType vector)
    {
        int c = _settings.Columns.Channels, h = _settings.Columns.Height, w = _settings.Columns.Width;
        var dims = vector.Dimensions;
        if (c == 0 && h == 0 && w == 0)
        {
            if (dims.Length != 3)
                throw new ArgumentOutOfRangeException(nameof(vector), $"The feature column '{_settings.Columns.Feature}' has dimensions [{string.Join(", ", dims)}], not [C, H, W]; set ImageChannels, ImageHeight and ImageWidth in the options.");
            (c, h, w) = (dims[0], dims[1], dims[2]);
        }
        else if (c == 0 || h == 0 || w == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vector), "Set all three of ImageChannels, ImageHeight and ImageWidth, or none.");
        }
        if ((long)c * h * w != vector.Size)
            throw new ArgumentOutOfRangeException(nameof(vector), $"The feature column '{_settings.Columns.Feature}' has {vector.Size} values, but C x H x W = {c} x {h} x {w} = {(long)c * h * w}.");
        return (c, h, w);
    }
}
