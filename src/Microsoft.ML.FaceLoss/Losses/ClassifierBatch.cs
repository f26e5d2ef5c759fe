using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// What a classifier head sees of one batch: the embeddings, the labels and the rows of W this step
/// uses (all of W, or the classes Partial FC sampled), with the quantities margin heads build their
/// logits from, each computed once when first asked for.
/// </summary>
public sealed class ClassifierBatch
{
    private readonly int _rowsPerClass;
    private Tensor? _cosine, _target, _norms, _linear;

    internal ClassifierBatch(Tensor embeddings, Tensor labels, Tensor weight, int rowsPerClass)
    {
        Embeddings = embeddings;
        Labels = labels;
        Weight = weight;
        _rowsPerClass = rowsPerClass;
    }

    /// <summary>The N x D embeddings as the backbone emits them (not normalized).</summary>
    public Tensor Embeddings { get; }

    /// <summary>The N labels (int64), indices into the classes of <see cref="Weight"/>.</summary>
    public Tensor Labels { get; }

    /// <summary>The rows of the class-weight matrix this step uses, (C' * K) x D.</summary>
    public Tensor Weight { get; }

    /// <summary>
    /// cos: the N x C' cosines between the L2-normalized embeddings and the L2-normalized rows of
    /// <see cref="Weight"/>, for K sub-centres the largest of each class's K.
    /// </summary>
    public Tensor Cosine => _cosine ??= ComputeCosine();

    /// <summary>t = cos[i, y_i], the target cosines, N x 1.</summary>
    public Tensor TargetCosine => _target ??= Cosine.gather(1, Labels.unsqueeze(1));

    /// <summary>|x_i|, the embeddings' L2 norms, N x 1.</summary>
    public Tensor FeatureNorms => _norms ??= Embeddings.norm(1, keepdim: true);

    /// <summary>x W^T, the unnormalized logits of softmax.</summary>
    public Tensor Linear => _linear ??= Embeddings.mm(Weight.t());

    /// <summary>An N x C' matrix with 1 at each row's label, of <paramref name="dtype"/>.</summary>
    public Tensor OneHot(ScalarType dtype) => nn.functional.one_hot(Labels, Cosine.shape[1]).to(dtype);

    /// <summary>
    /// <paramref name="logits"/> with each row's target logit replaced by <paramref name="target"/>
    /// (N x 1): logits * (1 - onehot) + onehot * target, so both keep their gradient.
    /// </summary>
    public Tensor WithTarget(Tensor logits, Tensor target)
    {
        var oneHot = nn.functional.one_hot(Labels, logits.shape[1]).to(logits.dtype);
        return logits * (1 - oneHot) + oneHot * target;
    }

    private Tensor ComputeCosine()
    {
        var cosine = nn.functional.normalize(Embeddings, p: 2, dim: 1).mm(nn.functional.normalize(Weight, p: 2, dim: 1).t());
        if (_rowsPerClass == 1) return cosine;
        return cosine.view(cosine.shape[0], -1, _rowsPerClass).amax(new long[] { 2 });
    }
}
