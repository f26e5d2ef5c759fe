using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Partial FC's choice of classes for one step (An et al. 2021): the batch's own classes and a random
/// share of the others, and the labels renumbered into the chosen ones. Used by a whole classifier
/// head and by one rank's shard of it.
/// </summary>
internal static class PartialFcSampling
{
    /// <summary>
    /// The chosen classes of <paramref name="classCount"/>, in ascending order: every one of
    /// <paramref name="positives"/> and random others, <paramref name="rate"/> of all classes at least;
    /// and their rows of W, <paramref name="rowsPerClass"/> (sub-centres) each.
    /// </summary>
    public static (Tensor Classes, Tensor Rows) Choose(Tensor positives, int classCount, double rate, int rowsPerClass)
    {
        var device = positives.device;
        long keep = Math.Max(positives.shape[0], (long)Math.Ceiling(rate * classCount));
        var score = rand(classCount, device: device);
        if (positives.shape[0] > 0) score.index_fill_(0, positives, 2.0); // positives first
        var classes = score.topk((int)keep).indexes.sort().Values;
        var rows = rowsPerClass == 1
            ? classes
            : (classes.unsqueeze(1) * rowsPerClass + arange(rowsPerClass, ScalarType.Int64, device: device)).flatten();
        return (classes, rows);
    }

    /// <summary>
    /// Each of <paramref name="length"/> labels' position among <paramref name="classes"/>, and
    /// <paramref name="otherwise"/> for a label not among them.
    /// </summary>
    public static Tensor Positions(Tensor classes, long length, long otherwise)
    {
        var position = full(length, otherwise, ScalarType.Int64, device: classes.device);
        position.index_put_(arange(classes.shape[0], ScalarType.Int64, device: classes.device), classes);
        return position;
    }
}
