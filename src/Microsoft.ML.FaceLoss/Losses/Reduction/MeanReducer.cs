using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Reduction;

/// <summary>The mean of the losses.</summary>
public sealed class MeanReducer : LossReducer
{
    /// <inheritdoc />
    protected override Tensor ReduceNonEmpty(Tensor losses) => losses.mean();
}
