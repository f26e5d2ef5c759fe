using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>
/// Miners: given the N x N distances of a batch and its labels, return the indices of the pairs or
/// triplets to learn from (int64 tensors, no gradient), so that any pair or triplet loss can use them.
/// </summary>
public static class BatchMiner
{
    /// <summary>The N x N mask of same-label pairs other than i = j.</summary>
    public static Tensor PositiveMask(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var same = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        return same.logical_and(eye(labels.shape[0], dtype: ScalarType.Bool, device: labels.device).logical_not()).MoveToOuterDisposeScope();
    }

    /// <summary>The N x N mask of different-label pairs.</summary>
    public static Tensor NegativeMask(Tensor labels) => labels.unsqueeze(1).ne(labels.unsqueeze(0));

    /// <summary>Pair indices (first, second, same) for <paramref name="mining"/>.</summary>
    public static (Tensor First, Tensor Second, Tensor Same) Pairs(Tensor distances, Tensor labels, PairMining mining)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor first, second, same;
        if (mining == PairMining.All)
        {
            var upper = triu_indices(labels.shape[0], labels.shape[0], 1, device: labels.device);
            first = upper[0];
            second = upper[1];
            same = labels.index_select(0, first).eq(labels.index_select(0, second));
        }
        else
        {
            var (anchors, positives, negatives) = Triplets(distances, labels, TripletMining.Hard);
            first = cat(new[] { anchors, anchors });
            second = cat(new[] { positives, negatives });
            same = cat(new[] { ones(anchors.shape[0], ScalarType.Bool, labels.device), zeros(anchors.shape[0], ScalarType.Bool, labels.device) });
        }
        return (first.MoveToOuterDisposeScope(), second.MoveToOuterDisposeScope(), same.MoveToOuterDisposeScope());
    }

    /// <summary>Triplet indices (anchor, positive, negative) for <paramref name="mining"/>.</summary>
    public static (Tensor Anchors, Tensor Positives, Tensor Negatives) Triplets(Tensor distances, Tensor labels, TripletMining mining)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var d = distances.detach();
        var positive = PositiveMask(labels);
        var negative = NegativeMask(labels);
        Tensor a, p, n;
        switch (mining)
        {
            case TripletMining.All:
            {
                var valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1)); // [a, p, n]
                var index = valid.nonzero();
                (a, p, n) = (index[.., 0], index[.., 1], index[.., 2]);
                break;
            }
            case TripletMining.Hard:
            {
                var hasBoth = positive.any(1).logical_and(negative.any(1));
                var farthestPositive = d.masked_fill(positive.logical_not(), double.NegativeInfinity).argmax(1);
                var nearestNegative = d.masked_fill(negative.logical_not(), double.PositiveInfinity).argmin(1);
                a = hasBoth.nonzero().squeeze(1);
                p = farthestPositive.index_select(0, a);
                n = nearestNegative.index_select(0, a);
                break;
            }
            default:
            {
                var pairs = positive.logical_and(negative.any(1, keepdim: true)).nonzero();
                a = pairs[.., 0];
                p = pairs[.., 1];
                var anchorRows = d.index_select(0, a);                       // distances of each pair's anchor
                var dap = anchorRows.gather(1, p.unsqueeze(1));               // d[a, p]
                var negatives = negative.index_select(0, a);
                var farther = negatives.logical_and(anchorRows > dap);
                var nearestFarther = anchorRows.masked_fill(farther.logical_not(), double.PositiveInfinity).argmin(1);
                var farthest = anchorRows.masked_fill(negatives.logical_not(), double.NegativeInfinity).argmax(1);
                n = where(farther.any(1), nearestFarther, farthest);
                break;
            }
        }
        return (a.MoveToOuterDisposeScope(), p.MoveToOuterDisposeScope(), n.MoveToOuterDisposeScope());
    }

    /// <summary>The N x N squared Euclidean distances between the rows of <paramref name="x"/> (with gradient).</summary>
    public static Tensor SquaredDistances(Tensor x)
    {
        using var scope = NewDisposeScope();
        var difference = x.unsqueeze(1) - x.unsqueeze(0);
        return difference.pow(2).sum(2).MoveToOuterDisposeScope();
    }
}
