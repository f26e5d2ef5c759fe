using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Center loss (Wen et al., ECCV 2016), joint with softmax: CE(x W^T) + lambda (1/2N) sum |x_i -
/// c_{y_i}|^2. The centres get no gradient: after each step every class j of the batch moves its
/// centre by alpha * sum_{y_i = j}(x_i - c_j) / (1 + n_j). Softmax separates, the centres compact.
/// State: <c>centers</c>, C x D, starting at 0.
/// </summary>
public sealed class CenterLoss : ClassifierHead<CenterLoss.Options>
{
    /// <summary>The options of <see cref="CenterLoss"/>.</summary>
    [FaceLossHead("CenterLoss", Order = 3)]
    public sealed class Options : ClassifierOptions
    {
        /// <inheritdoc />
        public override string? ShardingLimitation => "its centres are per-class state with an update rule of their own, and its centre term lies beside the cross-entropy";

        /// <summary>lambda, the weight of the centre term, at or above 0. Default: 0.003.</summary>
        [LossParameter("lambda")]
        public double Lambda { get; set => field = NonNegative(value, nameof(Lambda)); } = 0.003;

        /// <summary>alpha, the learning rate of the centres, in [0, 1]. Default: 0.5.</summary>
        [LossParameter("alpha")]
        public double Alpha { get; set => field = InRange(value, 0, 1 + 1e-12, nameof(Alpha)); } = 0.5;
    }

    private readonly Tensor _centers;

    /// <summary>Creates the head.</summary>
    public CenterLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        if (options.SampleRate < 1)
            throw new ArgumentException("Center loss keeps a centre per class and cannot sample classes (SampleRate < 1).", nameof(options));
        _centers = CreateState("centers", zeros(new long[] { classCount, embeddingSize }, dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch) => batch.Linear;

    /// <summary>The centre term lambda (1/2N) sum |x_i - c_{y_i}|^2; in training, then moves the centres of the batch's classes.</summary>
    protected override Tensor ExtraLoss(ClassifierBatch batch)
    {
        var (embeddings, labels) = (batch.Embeddings, batch.Labels);
        var batchCenters = _centers.index_select(0, labels);
        var centerTerm = (embeddings - batchCenters).pow(2).sum() / (2.0 * embeddings.shape[0]);
        if (training)
        {
            using var noGrad = no_grad();
            var step = zeros_like(_centers).index_add_(0, labels, batchCenters - embeddings, 1);
            var counts = bincount(labels, minlength: _centers.shape[0]).to(_centers.dtype).unsqueeze(1);
            _centers.sub_(step * HeadOptions.Alpha / (1 + counts));
        }
        return HeadOptions.Lambda * centerTerm;
    }
}
