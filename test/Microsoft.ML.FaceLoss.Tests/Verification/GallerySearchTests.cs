using Microsoft.ML.FaceLoss.Verification;

namespace Microsoft.ML.FaceLoss.Tests.Verification;

/// <summary>
/// The gallery search: LibTorch's matrix product and top-k where Microsoft.ML.FaceLoss is present,
/// the managed search of Microsoft.ML.FaceLoss.Inference otherwise; both find the same rows.
/// </summary>
[Collection(Infrastructure.TorchCollection.Name)]
public sealed class GallerySearchTests
{
    private static float[] UnitRows(int rows, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * dimension];
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * dimension, dimension);
            for (int i = 0; i < dimension; i++) row[i] = (float)(random.NextDouble() * 2 - 1);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
        return values;
    }

    [Fact]
    public void AnApplicationWithLibTorchSearchesWithIt()
    {
        Assert.IsType<TorchGallerySearch>(GallerySearch.Create(UnitRows(4, 8, 1), 4, 8));
    }

    [Theory]
    [InlineData(300, 16, 7, 5)]
    [InlineData(1000, 64, 33, 12)]
    [InlineData(5, 8, 3, 5)]
    public void TheManagedSearchFindsTheRowsAndScoresOfTheLibTorchSearch(int rows, int dimension, int probes, int candidates)
    {
        var gallery = UnitRows(rows, dimension, 2);
        var queries = UnitRows(probes, dimension, 3);
        var (managedScores, managedRows) = (new float[probes * candidates], new long[probes * candidates]);
        var (torchScores, torchRows) = (new float[probes * candidates], new long[probes * candidates]);

        new ManagedGallerySearch(gallery, rows, dimension).Search(queries, probes, candidates, managedScores, managedRows);
        new TorchGallerySearch(gallery, rows, dimension).Search(queries, probes, candidates, torchScores, torchRows);

        Assert.Equal(torchRows, managedRows);
        for (int i = 0; i < torchScores.Length; i++) Assert.Equal(torchScores[i], managedScores[i], 1e-5f);
        for (int p = 0; p < probes; p++)
            for (int c = 1; c < candidates; c++)
                Assert.True(managedScores[p * candidates + c - 1] >= managedScores[p * candidates + c], "The rows are not best first.");
    }
}
