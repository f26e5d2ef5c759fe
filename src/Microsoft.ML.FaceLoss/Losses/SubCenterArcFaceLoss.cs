using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Sub-center ArcFace (Deng et al., ECCV 2020): K centres per class, cos_j the best of class j's
/// K, then ArcFace. Noisy images gather at non-dominant sub-centres instead of pulling the main one.
/// </summary>
public sealed class SubCenterArcFaceLoss : ClassifierHead
{
    /// <summary>The options of <see cref="SubCenterArcFaceLoss"/>.</summary>
    public sealed class Options : ClassifierOptions
    {
        private double _scale = 64, _margin = 0.5;
        private int _subCenters = 3;

        /// <inheritdoc />
        public override string HeadName => "SubCenterArcFace";

        /// <summary>The scale s of the cosine logits. Default: 64.</summary>
        [LossParameter("scale")]
        public double Scale { get => _scale; set => _scale = Positive(value, nameof(Scale)); }

        /// <summary>The additive angular margin m in radians, in [0, pi). Default: 0.5.</summary>
        [LossParameter("margin")]
        public double Margin { get => _margin; set => _margin = InRange(value, 0, Math.PI, nameof(Margin)); }

        /// <summary>Sub-centres per class K, at least 1. Default: 3.</summary>
        [LossParameter("subcenters")]
        public int SubCenters
        {
            get => _subCenters;
            set => _subCenters = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(SubCenters), value, "SubCenters (K) must be at least 1.");
        }

        /// <inheritdoc />
        public override int RowsPerClass => SubCenters;

        /// <inheritdoc />
        public override FaceLossHead CreateHead(int classCount, int embeddingSize,
            ScalarType dtype = ScalarType.Float32, Device? device = null)
            => new SubCenterArcFaceLoss(this, classCount, embeddingSize, dtype, device);
    }

    private readonly Options _options;

    /// <summary>Creates the head; W has C*K rows.</summary>
    public SubCenterArcFaceLoss(Options options, int classCount, int embeddingSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
        => _options = (Options)HeadOptions;

    /// <inheritdoc />
    protected override Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight)
    {
        var cosine = Cosine(embeddings, weight); // the best sub-centre of each class
        var phi = AngularMargin.AddToAngle(Target(cosine, labels), _options.Margin);
        return CrossEntropy(ReplaceTarget(cosine, labels, phi) * _options.Scale, labels);
    }
}
