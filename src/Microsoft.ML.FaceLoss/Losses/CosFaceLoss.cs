using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// CosFace / AM-Softmax / LMCL (Wang et al., CVPR 2018): CE(s * (cos - m * onehot)), an additive
/// cosine margin on the target. Trains stably from scratch; a safe first choice on small data.
/// </summary>
public sealed class CosFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="CosFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _margin = 0.35;

        /// <inheritdoc />
        public override string HeadName => "CosFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The additive cosine margin m, in [0, 2). Default: 0.35.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, 2, nameof(Margin)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new CosFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public CosFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        var cosine = Cosine(embeddings, weight);
        var margined = cosine - OneHot(labels, cosine.shape[1], cosine.dtype) * _options.Margin;
        return CrossEntropy(margined * _options.Scale, labels);
    }
}
