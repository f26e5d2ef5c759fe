using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// NormFace (Wang et al., ACM MM 2017): CE(s * cos), softmax over cosines of normalized features
/// and class weights, no margin. Compact on the sphere; the step from softmax to the margin heads.
/// </summary>
public sealed class NormFaceLoss(NormFaceLoss.Options options, int classCount, int embeddingSize, ScalarType dtype = ScalarType.Float32, Device? device = null)
    : ClassifierHead<NormFaceLoss.Options>(options, classCount, embeddingSize, dtype, device)
{
    /// <summary>The options of <see cref="NormFaceLoss"/>: s = 16 by default.</summary>
    [FaceLossHead("NormFace", Order = 6)]
    public sealed class Options() : ScaledClassifierOptions(16);

    /// <inheritdoc />
    protected override Tensor Logits(ClassifierBatch batch) => batch.Cosine * HeadOptions.Scale;
}
