using Microsoft.ML.FaceLoss.Losses.Mining;
using Microsoft.ML.FaceLoss.Losses.Reduction;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Triplet loss (FaceNet; Schroff et al., CVPR 2015): on L2-normalized embeddings with d the squared
/// Euclidean distance, max(0, d(a, p) - d(a, n) + alpha) over mined triplets (all, batch-hard or
/// semi-hard; see <see cref="TripletMiner"/>), reduced to one number (see <see cref="LossReducer"/>).
/// No classifier: identities never seen in training cost nothing extra. Trains on identity-balanced
/// batches (P identities x K images).
/// </summary>
public sealed class TripletLoss : FaceLossHead
{
    /// <summary>The options of <see cref="TripletLoss"/>.</summary>
    [FaceLossHead("Triplet", Order = 2)]
    public sealed class Options : PairLossOptions
    {
        /// <summary>The margin alpha, greater than 0 (distances of unit vectors lie in [0, 4]). Default: 0.2.</summary>
        [LossParameter("margin")]
        public double Margin { get; set => field = Positive(value, nameof(Margin)); } = 0.2;

        /// <summary>Which triplets of a batch are used. Default: <see cref="TripletMining.SemiHard"/>, as FaceNet trains.</summary>
        [LossParameter("mining")]
        public TripletMining Mining { get; set; } = TripletMining.SemiHard;

        /// <inheritdoc />
        public override bool HasClassWeights => false;
    }

    private readonly Options _options;
    private readonly TripletMiner _miner;
    private readonly LossReducer _reducer;

    /// <summary>Creates the head (it has no weights; <paramref name="classCount"/> is not used).</summary>
    public TripletLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, embeddingSize)
    {
        _options = (Options)HeadOptions;
        _miner = TripletMiner.For(_options.Mining);
        _reducer = LossReducer.For(_options.Reduction, auto: _options.Mining == TripletMining.All ? LossReduction.MeanOfPositive : LossReduction.Mean);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        using var scope = NewDisposeScope();
        var distances = PairwiseDistances.Squared(nn.functional.normalize(embeddings, p: 2, dim: 1));
        var (a, p, n) = _miner.Mine(distances, labels);
        var losses = (distances[a, p] - distances[a, n] + _options.Margin).clamp_min(0);
        return _reducer.Reduce(losses, embeddings).MoveToOuterDisposeScope();
    }
}
