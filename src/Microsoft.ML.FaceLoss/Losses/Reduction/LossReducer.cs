using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses.Reduction;

/// <summary>
/// Turns the losses of a batch's mined pairs or triplets into one number. With nothing mined the loss
/// is 0, still connected to the embeddings' graph, so that a step without pairs is a valid step.
/// </summary>
public abstract class LossReducer
{
    /// <summary>The reducer of <paramref name="reduction"/>; <see cref="LossReduction.Auto"/> becomes <paramref name="auto"/>.</summary>
    public static LossReducer For(LossReduction reduction, LossReduction auto) => (reduction == LossReduction.Auto ? auto : reduction) switch
    {
        LossReduction.Mean => new MeanReducer(),
        LossReduction.MeanOfPositive => new MeanOfPositiveReducer(),
        var other => throw new ArgumentOutOfRangeException(nameof(reduction), other, "Unknown loss reduction."),
    };

    /// <summary>One number from the per-pair or per-triplet <paramref name="losses"/>.</summary>
    /// <param name="losses">The losses, one per mined pair or triplet (maybe none).</param>
    /// <param name="embeddings">The batch's embeddings, which a zero loss stays connected to.</param>
    public Tensor Reduce(Tensor losses, Tensor embeddings)
        => losses.shape[0] == 0 ? (embeddings * 0).sum() : ReduceNonEmpty(losses);

    /// <summary>One number from at least one loss.</summary>
    protected abstract Tensor ReduceNonEmpty(Tensor losses);
}
