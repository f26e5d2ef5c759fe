namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Which triplets of a batch a triplet head learns from.</summary>
public enum TripletMining
{
    /// <summary>Every valid (anchor, positive, negative); the loss averages those with a positive loss.</summary>
    All,

    /// <summary>Batch-hard: per anchor the farthest positive and the nearest negative.</summary>
    Hard,

    /// <summary>Semi-hard (FaceNet): per anchor-positive pair the nearest negative farther than the positive, else the farthest negative.</summary>
    SemiHard,
}

/// <summary>Which pairs of a batch a pair (contrastive) head learns from.</summary>
public enum PairMining
{
    /// <summary>Every pair i &lt; j of the batch.</summary>
    All,

    /// <summary>Per anchor its farthest positive and its nearest negative.</summary>
    Hard,
}
