using Microsoft.ML.FaceLoss.Losses.Mining;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Triplet loss (FaceNet; Schroff et al., CVPR 2015): on L2-normalized embeddings with d the squared
/// Euclidean distance, max(0, d(a, p) - d(a, n) + alpha) over mined triplets (all, batch-hard or
/// semi-hard; see <see cref="TripletMining"/>). No classifier: identities never seen in training
/// cost nothing extra. Trains on identity-balanced batches (P identities x K images).
/// </summary>
public sealed class TripletLoss : FaceLossHead
{
    /// <summary>The options of <see cref="TripletLoss"/>.</summary>
    public sealed class Options : FaceLossOptions
    {
        private double _margin = 0.2;

        /// <inheritdoc />
        public override string HeadName => "Triplet";

        /// <summary>The margin alpha, greater than 0 (distances of unit vectors lie in [0, 4]). Default: 0.2.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = Positive(value, nameof(Margin)); }

        /// <summary>Which triplets of a batch are used. Default: <see cref="TripletMining.SemiHard"/>, as FaceNet trains.</summary>
        [LossParameter("mining")]
        public TripletMining Mining { get; set; } = TripletMining.SemiHard;

        /// <inheritdoc />
        public override bool HasClassWeights => false;

        /// <inheritdoc />
        public override bool NeedsIdentityBalancedBatches => true;

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new TripletLoss(this, embeddingSize);
    }

    private readonly Options _options;

    /// <summary>Creates the head (it has no weights).</summary>
    public TripletLoss(Options options, int embeddingSize) : base(options, embeddingSize)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        using var scope = NewDisposeScope();
        var distances = BatchMiner.SquaredDistances(nn.functional.normalize(embeddings, p: 2, dim: 1));
        var (a, p, n) = BatchMiner.Triplets(distances, labels, _options.Mining);
        var losses = (distances[a, p] - distances[a, n] + _options.Margin).clamp_min(0);
        Tensor loss;
        if (losses.shape[0] == 0)
        {
            loss = (embeddings * 0).sum(); // no triplet: zero, still connected to the graph
        }
        else if (_options.Mining == TripletMining.All)
        {
            var active = losses.gt(0).sum();
            loss = losses.sum() / active.clamp_min(1).to(losses.dtype);
        }
        else
        {
            loss = losses.mean();
        }
        return loss.MoveToOuterDisposeScope();
    }
}
