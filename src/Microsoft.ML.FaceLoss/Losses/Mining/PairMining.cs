namespace Microsoft.ML.FaceLoss.Losses.Mining;

/// <summary>Which pairs of a batch a pair (contrastive) head learns from (see <see cref="PairMiner.For"/>).</summary>
public enum PairMining
{
    /// <summary>Every pair i &lt; j of the batch.</summary>
    All,

    /// <summary>Per anchor its farthest positive and its nearest negative.</summary>
    Hard,
}
