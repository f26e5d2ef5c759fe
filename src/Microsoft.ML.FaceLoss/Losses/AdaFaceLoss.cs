using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// AdaFace (Kim et al., CVPR 2022): the feature norm, a proxy of image quality, sets the margin:
/// z = clamp(h (|x| - mean) / (std + 1e-3), -1, 1) from running norm statistics, and the target
/// becomes cos(clamp(theta - m z)) - (m + m z); high-quality images get an ArcFace-like margin,
/// low-quality ones a CosFace-like one. State: <c>batch_mean</c> (20), <c>batch_std</c> (100).
/// </summary>
public sealed class AdaFaceLoss : ClassifierHead<AdaFaceLoss.Options>
{
    /// <summary>The options of <see cref="AdaFaceLoss"/>: s = 64, m = 0.4 by default.</summary>
    [FaceLossHead("AdaFace", Order = 12)]
    public sealed class Options() : AngularMarginOptions(64, 0.4)
    {
        /// <summary>h, how strongly the normalized feature norm moves the margin, at or above 0. Default: 0.333.</summary>
        [LossParameter("h")]
        public double H { get; set => field = NonNegative(value, nameof(H)); } = 0.333;

    }

    private readonly Tensor _mean, _std;

    /// <summary>Creates the head.</summary>
    public AdaFaceLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _mean = CreateState("batch_mean", full(Array.Empty<long>(), 20.0, dtype, device));
        _std = CreateState("batch_std", full(Array.Empty<long>(), 100.0, dtype, device));
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch)
    {
        double m = HeadOptions.Margin;
        Tensor z;
        using (no_grad())
        {
            var norms = batch.Embeddings.norm(1, keepdim: true).clamp(0.001, 100);
            if (training)
            {
                _mean.mul_(0.99).add_(norms.mean() * 0.01);
                if (norms.shape[0] > 1) _std.mul_(0.99).add_(norms.std() * 0.01);
            }
            z = ((norms - _mean) / (_std + 1e-3) * HeadOptions.H).clamp(-1, 1);
        }
        var cosine = batch.Cosine.clamp(-1 + 1e-3, 1 - 1e-3);
        var theta = cosine.gather(1, batch.Labels.unsqueeze(1)).acos();
        var target = (theta - m * z).clamp(1e-3, Math.PI - 1e-3).cos() - (m + m * z);
        return batch.WithTarget(cosine, target) * HeadOptions.Scale;
    }
}
