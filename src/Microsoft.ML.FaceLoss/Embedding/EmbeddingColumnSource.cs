using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.DataViews;

namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>
/// Computes the embedding column. Over an <see cref="IDataView"/> it reads the feature column a
/// batch ahead through a cursor of its own and embeds the batch in one forward pass; for single rows
/// (prediction engines) it embeds one row.
/// </summary>
internal sealed class EmbeddingColumnSource : IAppendedColumnsSource
{
    private readonly FaceEmbeddingTransformer _parent;
    private readonly int _featureIndex;

    public EmbeddingColumnSource(FaceEmbeddingTransformer parent, DataViewSchema inputSchema)
    {
        _parent = parent;
        _featureIndex = parent.CheckFeatureColumn(inputSchema);
        Columns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, parent.EmbeddingSize)) };
    }

    public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

    // The feature column is read ahead, a batch at a time, by a cursor of the batcher's own.
    public bool ReadsThroughOwnCursor => true;

    public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_featureIndex] };

    public Func<int, Delegate> MakeRowGetters(DataViewRow input)
    {
        var features = input.GetGetter<VBuffer<float>>(input.Schema[_featureIndex]);
        var pixels = new float[_parent.InputLength];
        var embedding = new float[_parent.EmbeddingSize];
        VBuffer<float> buffer = default;
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
        {
            features(ref buffer);
            _parent.CopyPixels(buffer, pixels, input.Position);
            _parent.EmbedRows(pixels, 1, embedding);
            Write(embedding, ref dst);
        };
        return _ => getter;
    }

    public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
    {
        int size = _parent.EmbeddingSize, batchSize = _parent.InferenceBatchSize;
        var embeddings = new float[batchSize * size];
        var batcher = new SideCursorBatcher(input, input.Schema[_featureIndex], cursor, seed, _parent.InputLength, batchSize,
            (rows, count) => _parent.EmbedRows(rows, count, embeddings),
            (in VBuffer<float> source, Span<float> destination, long row) => _parent.CopyPixels(source, destination, row));
        resources.Add(batcher);
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) => Write(embeddings.AsSpan(batcher.RowInBatch() * size, size), ref dst);
        return _ => getter;
    }

    private void Write(ReadOnlySpan<float> embedding, ref VBuffer<float> dst)
    {
        var editor = VBufferEditor.Create(ref dst, _parent.EmbeddingSize);
        embedding.CopyTo(editor.Values);
        dst = editor.Commit();
    }
}
