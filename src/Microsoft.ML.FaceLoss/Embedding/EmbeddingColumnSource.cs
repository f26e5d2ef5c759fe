using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;

namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>
/// Computes the embedding column. Over an <see cref="IDataView"/> it reads the feature column
/// through a second cursor that runs ahead of the main one and embeds a batch of rows per forward
/// pass; for single rows (prediction engines) it embeds one row.
/// </summary>
internal sealed class EmbeddingColumnSource : IAppendedColumnSource
{
    private readonly FaceEmbeddingTransformer _parent;
    private readonly int _featureIndex;

    public EmbeddingColumnSource(FaceEmbeddingTransformer parent, DataViewSchema inputSchema)
    {
        _parent = parent;
        _featureIndex = parent.CheckFeatureColumn(inputSchema);
        Type = new VectorDataViewType(NumberDataViewType.Single, parent.EmbeddingSize);
    }

    public string Name => _parent.OutputColumnName;

    public DataViewType Type { get; }

    // The feature column is read ahead, a batch at a time, by a second cursor (see Batcher).
    public bool ReadsThroughOwnCursor => true;

    public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_featureIndex] };

    public Delegate MakeRowGetter(DataViewRow input)
    {
        var features = input.GetGetter<VBuffer<float>>(input.Schema[_featureIndex]);
        var pixels = new float[_parent.InputLength];
        var embedding = new float[_parent.EmbeddingSize];
        VBuffer<float> buffer = default;
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
        {
            features(ref buffer);
            _parent.CopyPixels(buffer, pixels, input.Position);
            _parent.Network.Embed(pixels, 1, embedding);
            WriteEmbedding(embedding, ref dst);
        };
        return getter;
    }

    public Delegate MakeCursorGetter(IDataView input, AppendedColumnCursor cursor, int? seed, ICollection<IDisposable> resources)
    {
        var batcher = new Batcher(this, input, cursor, seed);
        resources.Add(batcher);
        ValueGetter<VBuffer<float>> getter = batcher.Get;
        return getter;
    }

    private void WriteEmbedding(ReadOnlySpan<float> embedding, ref VBuffer<float> dst)
    {
        var editor = VBufferEditor.Create(ref dst, _parent.EmbeddingSize);
        embedding.CopyTo(editor.Values);
        dst = editor.Commit();
    }

    /// <summary>Reads ahead a batch of feature vectors with its own cursor and embeds them in one forward pass.</summary>
    private sealed class Batcher : IDisposable
    {
        private readonly EmbeddingColumnSource _owner;
        private readonly IDataView _input;
        private readonly AppendedColumnCursor _main;
        private readonly int? _seed;
        private readonly int _batchSize;
        private readonly float[] _pixels;
        private readonly float[] _embeddings;
        private DataViewRowCursor? _side;
        private ValueGetter<VBuffer<float>>? _sideFeatures;
        private VBuffer<float> _buffer;
        private long _batchStart = -1;
        private int _batchCount;

        public Batcher(EmbeddingColumnSource owner, IDataView input, AppendedColumnCursor main, int? seed)
        {
            _owner = owner;
            _input = input;
            _main = main;
            _seed = seed;
            _batchSize = owner._parent.InferenceBatchSize;
            _pixels = new float[_batchSize * owner._parent.InputLength];
            _embeddings = new float[_batchSize * owner._parent.EmbeddingSize];
        }

        public void Get(ref VBuffer<float> dst)
        {
            long position = _main.Position;
            if (position < 0) throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
            if (position < _batchStart || position >= _batchStart + _batchCount) Fill(position);
            int size = _owner._parent.EmbeddingSize;
            _owner.WriteEmbedding(_embeddings.AsSpan((int)(position - _batchStart) * size, size), ref dst);
        }

        private void Fill(long position)
        {
            if (_side is null)
            {
                _side = _input.GetRowCursor(new[] { _input.Schema[_owner._featureIndex] }, _seed is null ? null : new Random(_seed.Value));
                _sideFeatures = _side.GetGetter<VBuffer<float>>(_input.Schema[_owner._featureIndex]);
            }
            if (_side.Position > position)
                throw new InvalidOperationException("The embedding cursor was asked for a row it has passed; cursors only move forward.");
            while (_side.Position < position)
            {
                if (!_side.MoveNext())
                    throw new InvalidOperationException("The input data view returned fewer rows on a second cursor; it must return the same rows in the same order to every cursor.");
            }
            int length = _owner._parent.InputLength;
            int count = 0;
            do
            {
                _sideFeatures!(ref _buffer);
                _owner._parent.CopyPixels(_buffer, _pixels.AsSpan(count * length, length), _side.Position);
                count++;
            }
            while (count < _batchSize && _side.MoveNext());
            _owner._parent.Network.Embed(_pixels, count, _embeddings);
            _batchStart = position;
            _batchCount = count;
        }

        public void Dispose() => _side?.Dispose();
    }
}
