using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>The distances and label masks of a batch that miners and pair losses work on.</summary>
public static class PairwiseDistances
{
    /// <summary>The N x N squared Euclidean distances between the rows of <paramref name="x"/> (with gradient).</summary>
    public static Tensor Squared(Tensor x)
    {
        using var scope = NewDisposeScope();
        var difference = x.unsqueeze(1) - x.unsqueeze(0);
        return difference.pow(2).sum(2).MoveToOuterDisposeScope();
    }

    /// <summary>The N x N mask of same-label pairs other than i = j.</summary>
    public static Tensor PositiveMask(Tensor labels)
    {
        using var scope = NewDisposeScope();
        var same = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        return same.logical_and(eye(labels.shape[0], dtype: ScalarType.Bool, device: labels.device).logical_not()).MoveToOuterDisposeScope();
    }

    /// <summary>The N x N mask of different-label pairs.</summary>
    public static Tensor NegativeMask(Tensor labels) => labels.unsqueeze(1).ne(labels.unsqueeze(0));
}
