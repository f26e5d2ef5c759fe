namespace Microsoft.ML.FaceLoss.Training;

/// <summary>What one training epoch achieved.</summary>
public sealed class EpochSummary
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>The mean training loss of the epoch.</summary>
    public double Loss { get; init; }

    /// <summary>
    /// The best balanced verification accuracy ((TAR + TRR) / 2 at the best threshold) over all pairs
    /// of the validation images of identities not trained on; null without validation data.
    /// </summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>The all-pairs verification AUC of the validation images; null without validation data.</summary>
    public double? ValidationAuc { get; init; }

    /// <summary>
    /// The head's loss on the validation images, where the head can compute it for identities it did
    /// not train on (pair and triplet heads); null otherwise.
    /// </summary>
    public double? ValidationLoss { get; init; }
}
