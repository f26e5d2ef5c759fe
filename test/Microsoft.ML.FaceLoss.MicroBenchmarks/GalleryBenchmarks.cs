using BenchmarkDotNet.Attributes;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.MicroBenchmarks;

/// <summary>Top-5 identities of a batch of 256 probes in a gallery of 512-value embeddings (5 per identity).</summary>
public class GalleryBenchmarks
{
    private const int Dimension = 512, Probes = 256, TopK = 5;
    private FaceIdentificationTransformer _gallery = null!;
    private float[] _probes = Array.Empty<float>();
    private readonly int[] _identities = new int[Probes * TopK];
    private readonly float[] _scores = new float[Probes * TopK];

    [Params(10_000, 100_000)]
    public int GalleryRows { get; set; }

    public sealed class Face
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        float[] Vector() => Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Face));
        schema[nameof(Face.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        var rows = Enumerable.Range(0, GalleryRows).Select(i => new Face { Embedding = Vector(), Identity = $"p{i / 5}" });
        _gallery = ml.FaceRecognition().Transforms.EnrollGallery(topK: TopK).Fit(ml.Data.LoadFromEnumerable(rows, schema));
        _probes = Enumerable.Range(0, Probes).SelectMany(_ => Vector()).ToArray();
    }

    [Benchmark]
    public int SearchBatch()
    {
        _gallery.Search(_probes, Probes, _identities, _scores);
        return _identities[0];
    }
}
