namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Which triplets of a batch a triplet head learns from (see <see cref="TripletMiner.For"/>).</summary>
public enum TripletMining
{
    /// <summary>Every valid (anchor, positive, negative).</summary>
    All,

    /// <summary>Batch-hard: per anchor the farthest positive and the nearest negative.</summary>
    Hard,

    /// <summary>Semi-hard (FaceNet): per anchor-positive pair the nearest negative farther than the positive, else the farthest negative.</summary>
    SemiHard,
}
