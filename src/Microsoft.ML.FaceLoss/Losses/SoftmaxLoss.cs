using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// Softmax: CE(x W^T + b), the "CNN + very-many-class softmax" of DeepFace and DeepID. Its features
/// separate the training identities but are not compact; the baseline the margin heads beat.
/// </summary>
public sealed class SoftmaxLoss : ClassifierHead<SoftmaxLoss.Options>
{
    /// <summary>The options of <see cref="SoftmaxLoss"/>.</summary>
    [FaceLossHead("Softmax", Order = 0)]
    public sealed class Options : ClassifierOptions
    {
        /// <summary>Whether the logits get a learnable bias b per class (not with <see cref="ClassifierOptions.SampleRate"/> below 1). Default: false.</summary>
        [LossParameter("bias")]
        public bool Bias { get; set; }

        /// <inheritdoc />
        public override string? ShardingLimitation => Bias ? "its per-class bias is not sharded with the class weights; set Bias = false" : null;
    }

    private readonly Parameter? _bias;

    /// <summary>Creates the head.</summary>
    public SoftmaxLoss(Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        if (!options.Bias) return;
        if (options.SampleRate < 1)
            throw new ArgumentException("A softmax bias cannot be combined with class sampling (SampleRate < 1).", nameof(options));
        _bias = new Parameter(zeros(classCount, dtype: dtype, device: device), requires_grad: true);
        register_parameter("bias", _bias);
    }

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch) => _bias is null ? batch.Linear : batch.Linear + _bias;
}
