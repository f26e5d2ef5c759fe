using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>How two embeddings are compared.</summary>
public enum PairScoreMetric
{
    /// <summary>Cosine similarity, in [-1, 1]: the dot product of L2-normalized embeddings.</summary>
    Cosine,

    /// <summary>Minus the Euclidean distance, so that higher still means more alike.</summary>
    NegativeEuclidean,
}

/// <summary>How <see cref="PairScoringEstimator"/> fits its decision threshold from labelled pairs.</summary>
public enum PairThresholdMode
{
    /// <summary>The threshold with the highest accuracy on the pairs (the smallest such).</summary>
    MaximumAccuracy,

    /// <summary>The lowest threshold (highest true accept rate) whose false accept rate is at most the target.</summary>
    TargetFalseAcceptRate,
}

/// <summary>
/// Scores pairs of embeddings (two vector columns) and decides "same identity or not" against a
/// threshold that <see cref="Fit"/> learns from labelled pairs (or that the options fix).
/// Make it with <c>mlContext.FaceRecognition().Transforms.ScorePairs(...)</c>.
/// </summary>
public sealed class PairScoringEstimator : IEstimator<PairScoringTransformer>
{
    /// <summary>The options of <see cref="PairScoringEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The first embedding column. Default: <c>Embedding1</c>.</summary>
        public string Embedding1ColumnName = "Embedding1";

        /// <summary>The second embedding column. Default: <c>Embedding2</c>.</summary>
        public string Embedding2ColumnName = "Embedding2";

        /// <summary>The Boolean column "same identity" of the labelled pairs that fit the threshold. Default: <c>IsSame</c>.</summary>
        public string LabelColumnName = "IsSame";

        /// <summary>The added score column (Single). Default: <c>Score</c>.</summary>
        public string ScoreColumnName = "Score";

        /// <summary>The added decision column (Boolean). Default: <c>PredictedLabel</c>.</summary>
        public string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>How embeddings are compared. Default: <see cref="PairScoreMetric.Cosine"/>.</summary>
        public PairScoreMetric Metric = PairScoreMetric.Cosine;

        /// <summary>How the threshold is fitted. Default: <see cref="PairThresholdMode.MaximumAccuracy"/>.</summary>
        public PairThresholdMode ThresholdMode = PairThresholdMode.MaximumAccuracy;

        /// <summary>The target false accept rate of <see cref="PairThresholdMode.TargetFalseAcceptRate"/>, in (0, 1]. Default: 1e-3.</summary>
        public double TargetFalseAcceptRate = 1e-3;

        /// <summary>A fixed threshold (pairs scoring at or above it are "same"); when set, <see cref="Fit"/> learns nothing and needs no labels. Default: null.</summary>
        public double? Threshold;
    }

    private readonly Options _options;

    internal PairScoringEstimator(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Embedding1ColumnName, nameof(Options.Embedding1ColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Embedding2ColumnName, nameof(Options.Embedding2ColumnName));
        if (!(options.TargetFalseAcceptRate > 0 && options.TargetFalseAcceptRate <= 1))
            throw new ArgumentOutOfRangeException(nameof(Options.TargetFalseAcceptRate), options.TargetFalseAcceptRate, "TargetFalseAcceptRate must lie in (0, 1].");
        if (options.Threshold is { } t && !double.IsFinite(t))
            throw new ArgumentOutOfRangeException(nameof(Options.Threshold), t, "Threshold must be a finite number.");
        _options = options;
    }

    /// <summary>Fits the threshold on labelled pairs (unless fixed) and returns the transformer.</summary>
    public PairScoringTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var unfitted = new PairScoringTransformer(o.Embedding1ColumnName, o.Embedding2ColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.Metric, o.Threshold ?? 0);
        int size = unfitted.CheckInput(input.Schema);
        if (o.Threshold is not null) return unfitted;

        var label = input.Schema.GetColumnOrNull(o.LabelColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"The pairs have no label column '{o.LabelColumnName}' (Boolean: same identity) to fit the threshold; add it or set Options.Threshold.");
        if (label.Type != BooleanDataViewType.Instance)
            throw new ArgumentOutOfRangeException(nameof(input), $"Schema mismatch for label column '{o.LabelColumnName}': expected Boolean, got {label.Type}.");
        var scores = new List<double>();
        var same = new List<bool>();
        var first = input.Schema[o.Embedding1ColumnName];
        var second = input.Schema[o.Embedding2ColumnName];
        using (var cursor = input.GetRowCursor(new[] { first, second, label }))
        {
            var get1 = cursor.GetGetter<VBuffer<float>>(first);
            var get2 = cursor.GetGetter<VBuffer<float>>(second);
            var getLabel = cursor.GetGetter<bool>(label);
            VBuffer<float> a = default, b = default;
            var denseA = new float[size];
            var denseB = new float[size];
            bool isSame = false;
            while (cursor.MoveNext())
            {
                get1(ref a);
                get2(ref b);
                getLabel(ref isSame);
                a.CopyTo(denseA);
                b.CopyTo(denseB);
                scores.Add(unfitted.Score(denseA, denseB));
                same.Add(isSame);
            }
        }
        if (!same.Contains(true) || !same.Contains(false))
            throw new InvalidOperationException($"Fitting a threshold needs same and different pairs; the data has {same.Count(s => s)} same and {same.Count(s => !s)} different.");
        double threshold = o.ThresholdMode == PairThresholdMode.MaximumAccuracy
            ? VerificationMetrics.BestThreshold(scores, same).Threshold
            : VerificationMetrics.Compute(scores, same, foldCount: 2).Roc.Where(p => p.FalseAcceptRate <= o.TargetFalseAcceptRate).MinBy(p => p.Threshold).Threshold;
        return new PairScoringTransformer(o.Embedding1ColumnName, o.Embedding2ColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.Metric, threshold);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        foreach (var name in new[] { _options.Embedding1ColumnName, _options.Embedding2ColumnName })
        {
            if (!MLNetInternals.TryFindColumn(inputSchema, name, out var column))
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no embedding column '{name}'.");
            if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for embedding column '{name}': expected a known-size Vector<Single>, got {MLNetInternals.TypeString(column)}.");
        }
        var shape = MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(_options.ScoreColumnName, NumberDataViewType.Single));
        return MLNetInternals.With(shape, MLNetInternals.ScalarColumn(_options.PredictedLabelColumnName, BooleanDataViewType.Instance));
    }
}

/// <summary>
/// Adds a pair's <c>Score</c> (Single; cosine similarity or minus the Euclidean distance of two
/// embedding columns) and <c>PredictedLabel</c> (Boolean: score at or above <see cref="Threshold"/>).
/// Saved and loaded with the model.
/// </summary>
public sealed class PairScoringTransformer : RowMappingTransformer, ILoadableTransformer<PairScoringTransformer>, IFaceModelStep
{
    /// <summary>The loader's name in files of Microsoft.ML.FaceLoss.Inference (ML.NET finds it there).</summary>
    internal const string LoaderSignature = "FaceLoss.PairScoring";
    /// <summary>The loader's name in files saved before the split into two assemblies, which name Microsoft.ML.FaceLoss (it declares this name).</summary>
    internal const string LegacyLoaderSignature = "FacePairScoreTransform";
    private static readonly TransformerFormat SavedFormat = new("FACEPAIR", LoaderSignature, typeof(PairScoringTransformer), LegacyLoaderSignature);

    internal PairScoringTransformer(string embedding1, string embedding2, string score, string predictedLabel, PairScoreMetric metric, double threshold)
    {
        Embedding1ColumnName = embedding1;
        Embedding2ColumnName = embedding2;
        ScoreColumnName = score;
        PredictedLabelColumnName = predictedLabel;
        Metric = metric;
        Threshold = threshold;
    }

    /// <summary>The first embedding column.</summary>
    public string Embedding1ColumnName { get; }

    /// <summary>The second embedding column.</summary>
    public string Embedding2ColumnName { get; }

    /// <summary>The added score column.</summary>
    public string ScoreColumnName { get; }

    /// <summary>The added decision column.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>How embeddings are compared.</summary>
    public PairScoreMetric Metric { get; }

    /// <summary>Pairs scoring at or above this are predicted to show one identity.</summary>
    public double Threshold { get; }

    /// <summary>The score of two embeddings under <see cref="Metric"/>.</summary>
    public double Score(ReadOnlySpan<float> embedding1, ReadOnlySpan<float> embedding2)
        => Metric == PairScoreMetric.Cosine ? PairScoreMath.Cosine(embedding1, embedding2) : PairScoreMath.NegativeEuclidean(embedding1, embedding2);

    private protected override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new Source(this, inputSchema);

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<PairScoringTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string x 4: embedding 1, embedding 2, score, predicted label columns; int: metric; double: threshold
    private protected override void Write(ModelWriter writer)
    {
        foreach (var name in new[] { Embedding1ColumnName, Embedding2ColumnName, ScoreColumnName, PredictedLabelColumnName })
            writer.WriteString(name);
        writer.Writer.Write((int)Metric);
        writer.Writer.Write(Threshold);
    }

    static PairScoringTransformer ILoadableTransformer<PairScoringTransformer>.Read(ModelReader reader)
    {
        string first = reader.ReadString(), second = reader.ReadString(), score = reader.ReadString(), label = reader.ReadString();
        var metric = (PairScoreMetric)reader.Reader.ReadInt32();
        if (!Enum.IsDefined(metric)) throw new InvalidDataException($"Unknown pair score metric {(int)metric} in the model.");
        return new PairScoringTransformer(first, second, score, label, metric, reader.Reader.ReadDouble());
    }

    /// <summary>Checks the two embedding columns; returns their length.</summary>
    internal int CheckInput(DataViewSchema schema)
    {
        int size = -1;
        foreach (var name in new[] { Embedding1ColumnName, Embedding2ColumnName })
        {
            var column = schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no embedding column '{name}'.");
            if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for embedding column '{name}': expected a known-size Vector<Single>, got {column.Type}.");
            if (size >= 0 && vector.Size != size)
                throw new ArgumentOutOfRangeException(nameof(schema), $"The embedding columns '{Embedding1ColumnName}' and '{Embedding2ColumnName}' have different lengths ({size} and {vector.Size}).");
            size = vector.Size;
        }
        return size;
    }

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly PairScoringTransformer _parent;

        private readonly int _size;

        public Source(PairScoringTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _size = parent.CheckInput(inputSchema);
            Columns = new[]
            {
                new DataViewSchema.DetachedColumn(parent.ScoreColumnName, NumberDataViewType.Single),
                new DataViewSchema.DetachedColumn(parent.PredictedLabelColumnName, BooleanDataViewType.Instance),
            };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema)
            => new[] { inputSchema[_parent.Embedding1ColumnName], inputSchema[_parent.Embedding2ColumnName] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
            => MakeRowGetters(cursor.Input);

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var get1 = input.GetGetter<VBuffer<float>>(input.Schema[_parent.Embedding1ColumnName]);
            var get2 = input.GetGetter<VBuffer<float>>(input.Schema[_parent.Embedding2ColumnName]);
            VBuffer<float> a = default, b = default;
            var denseA = new float[_size];
            var denseB = new float[_size];
            long scored = long.MinValue;
            double score = 0;
            double Current()
            {
                // Scored once per row, whichever columns are read: a row's values stay the same while
                // its position does (prediction engines move it on every call).
                if (input.Position != scored)
                {
                    get1(ref a);
                    get2(ref b);
                    a.CopyTo(denseA);
                    b.CopyTo(denseB);
                    score = _parent.Score(denseA, denseB);
                    scored = input.Position;
                }
                return score;
            }
            ValueGetter<float> scoreGetter = (ref float value) => value = (float)Current();
            ValueGetter<bool> labelGetter = (ref bool value) => value = Current() >= _parent.Threshold;
            return index => index == 0 ? scoreGetter : labelGetter;
        }
    }
}
