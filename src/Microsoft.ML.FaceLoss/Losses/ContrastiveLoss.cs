using Microsoft.ML.FaceLoss.Losses.Mining;
using Microsoft.ML.FaceLoss.Losses.Reduction;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Contrastive loss as DeepID2 trains it (Sun et al., NIPS 2014): over the mined pairs of a batch,
/// with d the Euclidean distance of the (unnormalized) embeddings, same-identity pairs cost 0.5 d^2
/// and different ones 0.5 max(0, m - d)^2; the loss is CE(x W^T) + lambda * the reduced pair cost,
/// or lambda * the pair cost alone when <see cref="Options.Classifier"/> is false. Trains on
/// identity-balanced batches (P identities x K images).
/// </summary>
public sealed class ContrastiveLoss : FaceLossHead
{
    /// <summary>The options of <see cref="ContrastiveLoss"/>.</summary>
    [FaceLossHead("Contrastive", Order = 1)]
    public sealed class Options : PairLossOptions
    {
        /// <summary>The margin m that different identities are pushed beyond, greater than 0. Default: 2.</summary>
        [LossParameter("margin")]
        public double Margin { get; set => field = Positive(value, nameof(Margin)); } = 2;

        /// <summary>lambda, the weight of the pair term, greater than 0. Default: 0.05.</summary>
        [LossParameter("lambda")]
        public double Lambda { get; set => field = Positive(value, nameof(Lambda)); } = 0.05;

        /// <summary>Whether a softmax classifier is trained jointly (DeepID2); false trains the pair term alone. Default: true.</summary>
        [LossParameter("classifier")]
        public bool Classifier { get; set; } = true;

        /// <summary>Which pairs of a batch are used. Default: <see cref="PairMining.All"/>.</summary>
        [LossParameter("mining")]
        public PairMining Mining { get; set; } = PairMining.All;

        /// <inheritdoc />
        public override bool HasClassWeights => Classifier;
    }

    private readonly Options _options;
    private readonly PairMiner _miner;
    private readonly LossReducer _reducer;

    /// <summary>Creates the head; W (C x D) only with <see cref="Options.Classifier"/>.</summary>
    public ContrastiveLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, embeddingSize)
    {
        _options = (Options)HeadOptions;
        _miner = PairMiner.For(_options.Mining);
        _reducer = LossReducer.For(_options.Reduction, auto: LossReduction.Mean);
        if (options.Classifier) CreateWeight(classCount, dtype, device);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        if (Weight is not null) CheckLabelRange(labels, Weight.shape[0]);
        using var scope = NewDisposeScope();
        var squared = PairwiseDistances.Squared(embeddings);
        var (first, second, same) = _miner.Mine(squared, labels);
        var pairSquared = squared[first, second];
        var distance = pairSquared.clamp_min(1e-12).sqrt();
        var differentCost = (_options.Margin - distance).clamp_min(0).pow(2);
        var cost = 0.5 * where(same, pairSquared, differentCost);
        var loss = _options.Lambda * _reducer.Reduce(cost, embeddings);
        if (Weight is not null) loss = nn.functional.cross_entropy(embeddings.mm(Weight.t()), labels) + loss;
        return loss.MoveToOuterDisposeScope();
    }
}
