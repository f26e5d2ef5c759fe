namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>What one training epoch achieved.</summary>
public sealed class EpochSummary
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>The mean training loss of the epoch.</summary>
    public double Loss { get; init; }

    /// <summary>
    /// The 10-fold verification accuracy (LFW protocol, folds stratified) of the validation images of
    /// identities not trained on: every same-identity pair and as many different-identity pairs (a
    /// seeded sample), so chance is 50%; null without validation data.
    /// </summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>The verification AUC of the same validation pairs; null without validation data.</summary>
    public double? ValidationAuc { get; init; }

    /// <summary>
    /// The head's loss on the validation images, where the head can compute it for identities it did
    /// not train on (pair and triplet heads); null otherwise.
    /// </summary>
    public double? ValidationLoss { get; init; }
}
