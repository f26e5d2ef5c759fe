using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Reduction;

/// <summary>The sum of the losses over the number of positive ones (0 when none is positive).</summary>
public sealed class MeanOfPositiveReducer : LossReducer
{
    /// <inheritdoc />
    protected override Tensor ReduceNonEmpty(Tensor losses) => losses.sum() / losses.gt(0).sum().clamp_min(1).to(losses.dtype);
}
