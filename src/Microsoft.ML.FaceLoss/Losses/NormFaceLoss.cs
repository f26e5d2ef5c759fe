using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// NormFace (Wang et al., ACM MM 2017): CE(s * cos), softmax over cosines of normalized features
/// and class weights, no margin. Compact on the sphere; the step from softmax to the margin heads.
/// </summary>
public sealed class NormFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="NormFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 16;

        /// <inheritdoc />
        public override string HeadName => "NormFace";

        /// <summary>The scale s of the cosine logits. Default: 16.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new NormFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head.</summary>
    public NormFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
        => CrossEntropy(Cosine(embeddings, weight) * _options.Scale, labels);
}
