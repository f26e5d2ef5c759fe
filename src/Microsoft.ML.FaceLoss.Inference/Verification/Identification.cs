using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// Enrols a gallery for 1:N identification: <see cref="Fit"/> reads the embeddings and identities of
/// the gallery rows and returns a <see cref="FaceIdentificationTransformer"/> that identifies probes.
/// Make it with <c>mlContext.FaceRecognition().Transforms.EnrollGallery(...)</c>.
/// </summary>
public sealed class GalleryEnrollmentEstimator : IEstimator<FaceIdentificationTransformer>
{
    /// <summary>The options of <see cref="GalleryEnrollmentEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The embedding column of gallery rows and probes. Default: <c>Embedding</c>.</summary>
        public string EmbeddingColumnName = "Embedding";

        /// <summary>The text identity column of the gallery rows. Default: <c>Identity</c>.</summary>
        public string IdentityColumnName = "Identity";

        /// <summary>The added best identity (text; <see cref="UnknownIdentity"/> below the rejection threshold). Default: <c>PredictedIdentity</c>.</summary>
        public string PredictedIdentityColumnName = "PredictedIdentity";

        /// <summary>The added score of the best identity (Single, cosine). Default: <c>IdentityScore</c>.</summary>
        public string ScoreColumnName = "IdentityScore";

        /// <summary>The added best identities, best first (vector of text of length <see cref="TopK"/>). Default: <c>TopIdentities</c>.</summary>
        public string TopIdentitiesColumnName = "TopIdentities";

        /// <summary>The added scores of <see cref="TopIdentitiesColumnName"/> (vector of Single). Default: <c>TopScores</c>.</summary>
        public string TopScoresColumnName = "TopScores";

        /// <summary>How many best identities are kept per probe (at most the gallery's identities). Default: 5.</summary>
        public int TopK = 5;

        /// <summary>Probes whose best score is below this are "unknown"; null never rejects. Default: null.</summary>
        public double? RejectionThreshold;

        /// <summary>The predicted identity of rejected probes. Default: <c>unknown</c>.</summary>
        public string UnknownIdentity = "unknown";

        /// <summary>Probes searched per matrix product. Default: 256.</summary>
        public int BatchSize = 256;
    }

    private readonly Options _options;

    internal GalleryEnrollmentEstimator(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TopK, 1, nameof(Options.TopK));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(Options.BatchSize));
        ArgumentNullException.ThrowIfNull(options.UnknownIdentity, nameof(Options.UnknownIdentity));
        _options = options;
    }

    /// <summary>Reads the gallery (embedding and identity of each row) and returns the identifying transformer.</summary>
    public FaceIdentificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var embedding = input.Schema.GetColumnOrNull(_options.EmbeddingColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"The gallery has no embedding column '{_options.EmbeddingColumnName}'.");
        if (embedding.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(input), $"Schema mismatch for embedding column '{_options.EmbeddingColumnName}': expected a known-size Vector<Single>, got {embedding.Type}.");
        var identity = input.Schema.GetColumnOrNull(_options.IdentityColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"The gallery has no identity column '{_options.IdentityColumnName}'.");
        if (identity.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(input), $"Schema mismatch for identity column '{_options.IdentityColumnName}': expected String, got {identity.Type}.");

        var rows = new List<float>();
        var rowIdentity = new List<int>();
        var identities = new List<string>();
        var index = new Dictionary<string, int>();
        using (var cursor = input.GetRowCursor(new[] { embedding, identity }))
        {
            var getEmbedding = cursor.GetGetter<VBuffer<float>>(embedding);
            var getIdentity = cursor.GetGetter<ReadOnlyMemory<char>>(identity);
            VBuffer<float> buffer = default;
            ReadOnlyMemory<char> name = default;
            while (cursor.MoveNext())
            {
                getEmbedding(ref buffer);
                getIdentity(ref name);
                string key = name.ToString();
                if (!index.TryGetValue(key, out int id))
                {
                    index[key] = id = identities.Count;
                    identities.Add(key);
                }
                if (buffer.Length != vector.Size)
                    throw new InvalidOperationException($"Gallery row {cursor.Position} of column '{_options.EmbeddingColumnName}' has {buffer.Length} values; {vector.Size} expected.");
                int start = rows.Count;
                foreach (float v in buffer.DenseValues()) rows.Add(v);
                Normalize(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows).Slice(start, vector.Size));
                rowIdentity.Add(id);
            }
        }
        if (rowIdentity.Count == 0) throw new InvalidOperationException("The gallery has no rows.");
        return new FaceIdentificationTransformer(_options, vector.Size, rows.ToArray(), rowIdentity.ToArray(), identities.ToArray());
    }

    private static void Normalize(Span<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        double norm = Math.Sqrt(sum);
        if (norm == 0) return;
        for (int i = 0; i < values.Length; i++) values[i] = (float)(values[i] / norm);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!MLNetInternals.TryFindColumn(inputSchema, _options.EmbeddingColumnName, out var column)
            || column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input needs the known-size Vector<Single> embedding column '{_options.EmbeddingColumnName}'.");
        var shape = MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(_options.PredictedIdentityColumnName, TextDataViewType.Instance));
        shape = MLNetInternals.With(shape, MLNetInternals.ScalarColumn(_options.ScoreColumnName, NumberDataViewType.Single));
        shape = MLNetInternals.With(shape, MLNetInternals.VectorColumn(_options.TopIdentitiesColumnName, TextDataViewType.Instance));
        return MLNetInternals.With(shape, MLNetInternals.VectorColumn(_options.TopScoresColumnName, NumberDataViewType.Single));
    }
}

/// <summary>
/// Identifies probes against an enrolled gallery: adds the best identity (or "unknown" below the
/// rejection threshold), its score, and the top-k identities and scores. An identity's score is its
/// best-matching gallery embedding (cosine). Probes are searched in batches: one matrix product of
/// the batch against the gallery, then the best k x w rows of each probe (w: the most gallery
/// embeddings of one identity), which always hold its k best identities. One row of a prediction
/// engine is searched once, whichever of the four columns are read. Saved and loaded with the model,
/// gallery included.
/// </summary>
public sealed class FaceIdentificationTransformer : RowMappingTransformer, ILoadableTransformer<FaceIdentificationTransformer>, IFaceModelStep
{
    /// <summary>The loader's name in files of Microsoft.ML.FaceLoss.Inference (ML.NET finds it there).</summary>
    internal const string LoaderSignature = "FaceLoss.Gallery";
    /// <summary>The loader's name in files saved before the split into two assemblies, which name Microsoft.ML.FaceLoss (it declares this name).</summary>
    internal const string LegacyLoaderSignature = "FaceIdentifyTransform";
    private static readonly TransformerFormat SavedFormat = new("FACEIDNT", LoaderSignature, typeof(FaceIdentificationTransformer), LegacyLoaderSignature);
    private const string GalleryStream = "FaceGallery.bin";
    private const int GalleryFormatVersion = 1;

    private readonly float[] _gallery;      // rows x D, L2-normalized
    private readonly GallerySearch _search; // over the memory of _gallery
    private readonly int[] _rowIdentity;    // the identity index of each gallery row
    private readonly string[] _identities;
    private readonly int _candidates;       // rows kept per probe: TopK x the most rows of one identity (at most all rows)

    internal FaceIdentificationTransformer(GalleryEnrollmentEstimator.Options options, int embeddingSize, float[] gallery, int[] rowIdentity, string[] identities)
    {
        Options = options;
        EmbeddingSize = embeddingSize;
        _gallery = gallery;
        _rowIdentity = rowIdentity;
        _identities = identities;
        TopK = Math.Min(options.TopK, identities.Length);
        var rowsOfIdentity = new int[identities.Length];
        foreach (int id in rowIdentity) rowsOfIdentity[id]++;
        _candidates = (int)Math.Min(rowIdentity.Length, (long)TopK * rowsOfIdentity.Max());
        _search = GallerySearch.Create(gallery, rowIdentity.Length, embeddingSize);
    }

    internal GalleryEnrollmentEstimator.Options Options { get; }

    /// <summary>The enrolled identities, in order of first appearance in the gallery.</summary>
    public IReadOnlyList<string> Identities => _identities;

    /// <summary>The number of gallery embeddings.</summary>
    public int GallerySize => _rowIdentity.Length;

    /// <summary>The length of an embedding.</summary>
    public int EmbeddingSize { get; }

    /// <summary>How many best identities each probe gets.</summary>
    public int TopK { get; }

    /// <summary>The rejection threshold, or null.</summary>
    public double? RejectionThreshold => Options.RejectionThreshold;

    /// <summary>The column names and the unknown label.</summary>
    public string PredictedIdentityColumnName => Options.PredictedIdentityColumnName;

    /// <summary>The added score column.</summary>
    public string ScoreColumnName => Options.ScoreColumnName;

    /// <summary>The added top-k identities column.</summary>
    public string TopIdentitiesColumnName => Options.TopIdentitiesColumnName;

    /// <summary>The added top-k scores column.</summary>
    public string TopScoresColumnName => Options.TopScoresColumnName;

    /// <summary>The label of rejected probes.</summary>
    public string UnknownIdentity => Options.UnknownIdentity;

    private protected override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new Source(this, inputSchema);

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<FaceIdentificationTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // stream FaceGallery.bin: ModelStreamFormat { options; embedding size; identities; gallery rows }
    private protected override void Write(ModelWriter writer) => writer.WriteStream(GalleryStream, GalleryFormatVersion, w =>
    {
        var o = Options;
        foreach (var name in new[] { o.EmbeddingColumnName, o.IdentityColumnName, o.PredictedIdentityColumnName, o.ScoreColumnName, o.TopIdentitiesColumnName, o.TopScoresColumnName, o.UnknownIdentity })
            w.Write(name);
        w.Write(o.TopK);
        w.Write(o.BatchSize);
        w.Write(o.RejectionThreshold.HasValue);
        w.Write(o.RejectionThreshold ?? 0);
        w.Write(EmbeddingSize);
        w.Write(_identities.Length);
        foreach (var identity in _identities) w.Write(identity);
        w.Write(GallerySize);
        foreach (int id in _rowIdentity) w.Write(id);
        WriteSingles(w, _gallery);
    });

    private static void WriteSingles(BinaryWriter writer, float[] values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            foreach (float v in values) writer.Write(v);
            return;
        }
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static void ReadSingles(BinaryReader reader, float[] values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
            return;
        }
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        if (reader.Read(bytes) is var read && read != bytes.Length) throw new EndOfStreamException();
    }

    static FaceIdentificationTransformer ILoadableTransformer<FaceIdentificationTransformer>.Read(ModelReader reader)
        => reader.ReadStream(GalleryStream, "face gallery", GalleryFormatVersion, (r, _) =>
        {
            var o = new GalleryEnrollmentEstimator.Options
            {
                EmbeddingColumnName = r.ReadString(), IdentityColumnName = r.ReadString(), PredictedIdentityColumnName = r.ReadString(),
                ScoreColumnName = r.ReadString(), TopIdentitiesColumnName = r.ReadString(), TopScoresColumnName = r.ReadString(),
                UnknownIdentity = r.ReadString(), TopK = r.ReadInt32(), BatchSize = r.ReadInt32(),
            };
            bool hasThreshold = r.ReadBoolean();
            double threshold = r.ReadDouble();
            o.RejectionThreshold = hasThreshold ? threshold : null;
            int size = r.ReadInt32();
            var identities = new string[r.ReadInt32()];
            for (int i = 0; i < identities.Length; i++) identities[i] = r.ReadString();
            var rowIdentity = new int[r.ReadInt32()];
            for (int i = 0; i < rowIdentity.Length; i++) rowIdentity[i] = r.ReadInt32();
            var gallery = new float[rowIdentity.Length * size];
            ReadSingles(r, gallery);
            return new FaceIdentificationTransformer(o, size, gallery, rowIdentity, identities);
        });

    /// <summary>
    /// Searches <paramref name="count"/> probes (one after another in <paramref name="probes"/>):
    /// writes for each its top-k identity indices and scores, best first.
    /// </summary>
    internal void Search(float[] probes, int count, int[] topIdentities, float[] topScores)
    {
        var rowScores = new float[count * _candidates];
        var rows = new long[count * _candidates];
        // As F.normalize: x / max(||x||, 1e-12).
        var normalized = new float[count * EmbeddingSize];
        for (int probe = 0; probe < count; probe++)
        {
            var source = probes.AsSpan(probe * EmbeddingSize, EmbeddingSize);
            float norm = Math.Max(System.Numerics.Tensors.TensorPrimitives.Norm(source), 1e-12f);
            System.Numerics.Tensors.TensorPrimitives.Divide(source, norm, normalized.AsSpan(probe * EmbeddingSize, EmbeddingSize));
        }
        _search.Search(normalized, count, _candidates, rowScores, rows);
        // The best rows, best first, hold each probe's k best identities: the first row of each identity is its score.
        var seen = new HashSet<int>();
        for (int probe = 0; probe < count; probe++)
        {
            seen.Clear();
            int found = 0;
            for (int c = 0; c < _candidates && found < TopK; c++)
            {
                int id = _rowIdentity[rows[probe * _candidates + c]];
                if (!seen.Add(id)) continue;
                topIdentities[probe * TopK + found] = id;
                topScores[probe * TopK + found] = rowScores[probe * _candidates + c];
                found++;
            }
        }
    }

    private int CheckInput(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(Options.EmbeddingColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The probes have no embedding column '{Options.EmbeddingColumnName}'.");
        if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || vector.Size != EmbeddingSize)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for embedding column '{Options.EmbeddingColumnName}': expected Vector<Single, {EmbeddingSize}>, got {column.Type}.");
        return column.Index;
    }

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly FaceIdentificationTransformer _parent;
        private readonly int _embeddingIndex;

        public Source(FaceIdentificationTransformer parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _embeddingIndex = parent.CheckInput(inputSchema);
            Columns = new[]
            {
                new DataViewSchema.DetachedColumn(parent.PredictedIdentityColumnName, TextDataViewType.Instance),
                new DataViewSchema.DetachedColumn(parent.ScoreColumnName, NumberDataViewType.Single),
                new DataViewSchema.DetachedColumn(parent.TopIdentitiesColumnName, new VectorDataViewType(TextDataViewType.Instance, parent.TopK)),
                new DataViewSchema.DetachedColumn(parent.TopScoresColumnName, new VectorDataViewType(NumberDataViewType.Single, parent.TopK)),
            };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => true;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_embeddingIndex] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
        {
            int k = _parent.TopK, batchSize = _parent.Options.BatchSize;
            var ids = new int[batchSize * k];
            var scores = new float[batchSize * k];
            var batcher = new SideCursorBatcher(input, input.Schema[_embeddingIndex], cursor, seed, _parent.EmbeddingSize, batchSize,
                (rows, count) => _parent.Search(rows, count, ids, scores), CopyEmbedding);
            resources.Add(batcher);
            return Getters(() => batcher.RowInBatch(), ids, scores);
        }

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var getEmbedding = input.GetGetter<VBuffer<float>>(input.Schema[_embeddingIndex]);
            int k = _parent.TopK;
            var ids = new int[k];
            var scores = new float[k];
            var probe = new float[_parent.EmbeddingSize];
            VBuffer<float> buffer = default;
            long searched = long.MinValue;
            int Search()
            {
                // A row's values stay the same while its position does (prediction engines move it per call).
                if (input.Position != searched)
                {
                    getEmbedding(ref buffer);
                    CopyEmbedding(buffer, probe, input.Position);
                    _parent.Search(probe, 1, ids, scores);
                    searched = input.Position;
                }
                return 0;
            }
            return Getters(Search, ids, scores);
        }

        private void CopyEmbedding(in VBuffer<float> source, Span<float> destination, long row)
        {
            if (source.Length != _parent.EmbeddingSize)
                throw new InvalidOperationException($"Row {row} of column '{_parent.Options.EmbeddingColumnName}' has {source.Length} values; {_parent.EmbeddingSize} expected.");
            source.CopyTo(destination);
        }

        private Func<int, Delegate> Getters(Func<int> locate, int[] ids, float[] scores)
        {
            int k = _parent.TopK;
            var names = _parent._identities.Select(n => n.AsMemory()).ToArray();
            var unknown = _parent.UnknownIdentity.AsMemory();
            double? threshold = _parent.RejectionThreshold;
            ValueGetter<ReadOnlyMemory<char>> predicted = (ref ReadOnlyMemory<char> value) =>
            {
                int row = locate();
                value = threshold is { } t && scores[row * k] < t ? unknown : names[ids[row * k]];
            };
            ValueGetter<float> best = (ref float value) => value = scores[locate() * k];
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> top = (ref VBuffer<ReadOnlyMemory<char>> value) =>
            {
                int row = locate();
                var editor = VBufferEditor.Create(ref value, k);
                for (int i = 0; i < k; i++) editor.Values[i] = names[ids[row * k + i]];
                value = editor.Commit();
            };
            ValueGetter<VBuffer<float>> topScores = (ref VBuffer<float> value) =>
            {
                int row = locate();
                var editor = VBufferEditor.Create(ref value, k);
                scores.AsSpan(row * k, k).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return index => index switch { 0 => predicted, 1 => best, 2 => top, _ => topScores };
        }
    }
}
