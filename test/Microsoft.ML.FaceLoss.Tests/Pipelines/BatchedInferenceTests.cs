using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;

namespace Microsoft.ML.FaceLoss.Tests.Pipelines;

/// <summary>
/// Embedding a data view in batches, with the next batch read while one is embedded: the same
/// embeddings as one row at a time, and errors only for rows that were asked for.
/// </summary>
public sealed class BatchedInferenceTests : IDisposable
{
    private const int Rows = 100, Batch = 16;
    private readonly MLContext _ml = new(seed: 1);
    private readonly FaceEmbeddingTransformer _model;
    private readonly List<Row> _rows;

    public sealed class Row
    {
        [VectorType(1, 8, 8)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Embedded
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    public BatchedInferenceTests()
    {
        global::TorchSharp.torch.manual_seed(1);
        var network = EmbeddingNetwork.Create(new EmbeddingNetworkConfig(FaceBackbone.SmallCnn, 1, 8, 8, 4, 4, 0));
        _model = new FaceEmbeddingTransformer("Features", "Embedding", network, null, Batch);
        var random = new Random(1);
        _rows = Enumerable.Range(0, Rows).Select(_ => new Row { Features = Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() }).ToList();
    }

    public void Dispose() => _model.Dispose();

    /// <summary>The embeddings of the rows whose index <paramref name="read"/> accepts, reading the column of no other row.</summary>
    private List<(int Row, float[] Embedding)> Read(IEnumerable<Row> rows, Func<int, bool> read)
    {
        var output = _model.Transform(_ml.Data.LoadFromEnumerable(rows));
        using var cursor = output.GetRowCursor(output.Schema);
        var getter = cursor.GetGetter<VBuffer<float>>(output.Schema["Embedding"]);
        var result = new List<(int, float[])>();
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            if (!read((int)cursor.Position)) continue;
            getter(ref value);
            result.Add(((int)cursor.Position, value.DenseValues().ToArray()));
        }
        return result;
    }

    private float[] OneByOne(Row row) => _ml.Model.CreatePredictionEngine<Row, Embedded>(_model).Predict(row).Embedding;

    [Theory]
    [InlineData(1)]   // every row: batches of 16, the last of 4
    [InlineData(40)]  // rows 0, 40, 80: the cursor skips past a read-ahead batch
    [InlineData(17)]  // each row in a batch of its own
    public void BatchesGiveTheEmbeddingsOfOneRowAtATime(int every)
    {
        var batched = Read(_rows, i => i % every == 0);
        Assert.Equal(Enumerable.Range(0, Rows).Where(i => i % every == 0), batched.Select(b => b.Row));
        foreach (var (row, embedding) in batched)
            Assert.Equal(OneByOne(_rows[row]), embedding, new Tolerance(1e-5f));
    }

    [Fact]
    public void ABadRowIsReportedWhenItsBatchIsReadAndNeverBefore()
    {
        var rows = _rows.Select(r => new Row { Features = (float[])r.Features.Clone() }).ToList();
        rows[70].Features[5] = float.NaN;
        Assert.Equal(20, Read(rows, i => i < 20).Count);   // the read-ahead of rows 16-31 and on holds no error
        Assert.Equal(3, Read(rows, i => i % 40 == 0).Count); // rows 0, 40, 80: row 70 was read ahead, never asked for
        var error = Assert.Throws<InvalidOperationException>(() => Read(rows, _ => true));
        Assert.Contains("Row 70", error.Message);
    }

    private sealed class Tolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
