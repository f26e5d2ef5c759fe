namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// One training batch: row after row of C x H x W pixels (augmented) and 0-based labels, and its
/// position in the epoch. A batch another rank trains is passed on empty (<see cref="IsElsewhere"/>),
/// so that every rank counts the epoch's batches alike.
/// </summary>
internal sealed record TrainingBatch(float[] Pixels, long[] Labels)
{
    public int Count => Labels.Length;

    /// <summary>The batch's index in its epoch, from 0.</summary>
    public int Index { get; init; }

    /// <summary>Whether the batch belongs to another rank (no rows were read into it).</summary>
    public bool IsElsewhere { get; init; }

    /// <summary>The empty stand-in of batch <paramref name="index"/>, which another rank trains.</summary>
    public static TrainingBatch Elsewhere(int index) => new(Array.Empty<float>(), Array.Empty<long>()) { Index = index, IsElsewhere = true };
}
