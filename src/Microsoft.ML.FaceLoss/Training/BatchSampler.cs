using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Decides which rows form each training batch of an epoch.</summary>
internal abstract class BatchSampler
{
    /// <summary>The number of batches every epoch has.</summary>
    public abstract int BatchesPerEpoch { get; }

    /// <summary>The batches of one epoch, each a list of row indices; every batch has at least two rows.</summary>
    public abstract List<int[]> Epoch(Random random);

    /// <summary>The sampler the head needs: identity-balanced for pair and triplet heads, shuffled otherwise.</summary>
    public static BatchSampler For(DataSettings settings, FaceLossOptions loss, int[] labels)
        => loss.NeedsIdentityBalancedBatches
            ? new IdentityBalancedSampler(labels, Math.Max(2, settings.BatchSize / settings.ImagesPerIdentity), settings.ImagesPerIdentity, loss.HeadName)
            : new ShuffledSampler(labels.Length, settings.BatchSize);
}
