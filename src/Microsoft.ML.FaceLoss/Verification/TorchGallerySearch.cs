using Microsoft.ML.FaceLoss.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// The gallery search of an application that holds LibTorch: one matrix product of the probes against
/// the gallery and a top-k. <see cref="GallerySearch.Create"/> finds this class by name, so that the
/// gallery itself (in Microsoft.ML.FaceLoss.Inference) needs no TorchSharp.
/// </summary>
internal sealed class TorchGallerySearch : GallerySearch
{
    private readonly Tensor _gallery; // the same memory as the gallery array, outside every dispose scope
    private readonly int _dimension;

    public TorchGallerySearch(float[] gallery, int rows, int dimension)
    {
        TorchRuntime.EnsureLoaded();
        _dimension = dimension;
        using (NewDisposeScope())
        {
            // Shares the array's memory: the gallery is held once, however many probes are searched.
            _gallery = from_array(gallery).view(rows, dimension);
            _gallery.DetachFromDisposeScope();
        }
    }

    public override void Search(float[] probes, int count, int candidates, float[] scores, long[] rows)
    {
        using (NewDisposeScope())
        using (no_grad())
        {
            // The caller's array holds exactly the batch (Identification makes it so): shared, not copied.
            var p = (probes.Length == count * _dimension ? from_array(probes) : tensor(probes.AsSpan(0, count * _dimension).ToArray()))
                .view(count, _dimension);
            var (values, indexes) = p.mm(_gallery.t()).topk(candidates, dim: 1);
            values.contiguous().data<float>().CopyTo(scores.AsSpan(0, count * candidates));
            indexes.contiguous().data<long>().CopyTo(rows.AsSpan(0, count * candidates));
        }
    }
}
