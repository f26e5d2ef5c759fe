using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Testing;

/// <summary>
/// Training rows for a step over very many identities: random pixels in [-1, 1], four images of each
/// of rows / 4 identities spread over the whole key range, and every one of the identities a key, as
/// <c>MapValueToKey</c> fitted on the full identity list makes them (so the head has one class each).
/// </summary>
internal static class ManyIdentities
{
    /// <summary><paramref name="rows"/> images of <paramref name="channels"/> x <paramref name="size"/> x <paramref name="size"/> with a key-typed <c>Label</c> of <paramref name="identities"/> values.</summary>
    public static IDataView Keyed(MLContext ml, int identities, int rows, int channels, int size)
    {
        var random = new Random(1);
        var images = Enumerable.Range(0, rows).Select(i => new Row
        {
            Features = Enumerable.Range(0, channels * size * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            Identity = $"id{(long)(i / 4) * 6_151 % identities}",
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, channels, size, size);
        var data = ml.Data.LoadFromEnumerable(images, schema);
        var everyone = ml.Data.LoadFromEnumerable(Enumerable.Range(0, identities).Select(i => new IdentityRow { Identity = $"id{i}" }));
        return ml.Transforms.Conversion.MapValueToKey("Label", "Identity", keyData: everyone).Fit(data).Transform(data);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class IdentityRow
    {
        public string Identity { get; set; } = "";
    }
}
