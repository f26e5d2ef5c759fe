namespace Microsoft.ML.FaceLoss.Training;

/// <summary>One training batch: row after row of C x H x W pixels (augmented) and 0-based labels.</summary>
internal sealed record TrainingBatch(float[] Pixels, long[] Labels)
{
    public int Count => Labels.Length;
}
