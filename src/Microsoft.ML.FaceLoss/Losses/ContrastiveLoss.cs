using Microsoft.ML.FaceLoss.Losses.Mining;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Contrastive loss as DeepID2 trains it (Sun et al., NIPS 2014): over the pairs of a batch, with d
/// the Euclidean distance of the (unnormalized) embeddings, same-identity pairs cost 0.5 d^2 and
/// different ones 0.5 max(0, m - d)^2; the loss is CE(x W^T) + lambda * the mean pair cost, or
/// lambda * the mean pair cost alone when <see cref="Options.Classifier"/> is false. Trains on
/// identity-balanced batches (P identities x K images).
/// </summary>
public sealed class ContrastiveLoss : FaceLossHead
{
    /// <summary>The options of <see cref="ContrastiveLoss"/>.</summary>
    public sealed class Options : FaceLossOptions
    {
        private double _margin = 2, _lambda = 0.05;

        /// <inheritdoc />
        public override string HeadName => "Contrastive";

        /// <summary>The margin m that different identities are pushed beyond, greater than 0. Default: 2.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = Positive(value, nameof(Margin)); }

        /// <summary>lambda, the weight of the pair term, greater than 0. Default: 0.05.</summary>
        [LossParameter("lambda")]
        public double Lambda { get => _lambda; set => _lambda = Positive(value, nameof(Lambda)); }

        /// <summary>Whether a softmax classifier is trained jointly (DeepID2); false trains the pair term alone. Default: true.</summary>
        [LossParameter("classifier")]
        public bool Classifier { get; set; } = true;

        /// <summary>Which pairs of a batch are used. Default: <see cref="PairMining.All"/>.</summary>
        [LossParameter("mining")]
        public PairMining Mining { get; set; } = PairMining.All;

        /// <inheritdoc />
        public override bool HasClassWeights => Classifier;

        /// <inheritdoc />
        public override bool NeedsIdentityBalancedBatches => true;

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new ContrastiveLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head; W (C x D) only with <see cref="Options.Classifier"/>.</summary>
    public ContrastiveLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, embeddingSize)
    {
        _options = (Options)HeadOptions;
        if (options.Classifier) CreateWeight(classCount, dtype, device);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        using var scope = NewDisposeScope();
        var squared = BatchMiner.SquaredDistances(embeddings);
        var (first, second, same) = BatchMiner.Pairs(squared, labels, _options.Mining);
        var pairSquared = squared[first, second];
        var distance = pairSquared.clamp_min(1e-12).sqrt();
        var differentCost = (_options.Margin - distance).clamp_min(0).pow(2);
        var cost = 0.5 * where(same, pairSquared, differentCost);
        var loss = _options.Lambda * (cost.shape[0] == 0 ? (embeddings * 0).sum() : cost.mean());
        if (Weight is not null) loss = nn.functional.cross_entropy(embeddings.mm(Weight.t()), labels) + loss;
        return loss.MoveToOuterDisposeScope();
    }
}
