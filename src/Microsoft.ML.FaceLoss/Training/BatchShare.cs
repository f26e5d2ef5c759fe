namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Which of an epoch's batches a rank trains: each optimizer step takes <see cref="Ranks"/> x
/// <see cref="MicroBatches"/> consecutive batches, rank r the <see cref="MicroBatches"/> that start at
/// r x <see cref="MicroBatches"/>. One process without accumulation takes every batch, one per step.
/// </summary>
/// <param name="Rank">This rank, from 0.</param>
/// <param name="Ranks">The number of ranks N.</param>
/// <param name="MicroBatches">The micro-batches each rank accumulates per step.</param>
internal sealed record BatchShare(int Rank, int Ranks, int MicroBatches)
{
    /// <summary>The batches of one step, over all ranks.</summary>
    public int PerStep => Ranks * MicroBatches;

    /// <summary>Whether this rank trains batch <paramref name="index"/> of an epoch.</summary>
    public bool IsMine(int index) => index % PerStep / MicroBatches == Rank;

    /// <summary>The optimizer steps of an epoch of <paramref name="batches"/> batches (an incomplete last step is left out).</summary>
    public int StepsPerEpoch(int batches) => batches / PerStep;

    /// <summary>
    /// This rank's batches of each complete step of <paramref name="batches"/> (every rank's batches, the
    /// others as empty stand-ins, in order); those of an incomplete last step are released unused.
    /// </summary>
    public IEnumerable<IReadOnlyList<TrainingBatch>> Steps(IEnumerable<TrainingBatch> batches, Action<TrainingBatch> release)
    {
        var mine = new List<TrainingBatch>(MicroBatches);
        try
        {
            foreach (var batch in batches)
            {
                if (!batch.IsElsewhere) mine.Add(batch);
                if (batch.Index % PerStep != PerStep - 1) continue;
                var step = mine.ToArray();
                mine.Clear();
                yield return step;
            }
        }
        finally
        {
            foreach (var batch in mine) release(batch);
        }
    }
}
