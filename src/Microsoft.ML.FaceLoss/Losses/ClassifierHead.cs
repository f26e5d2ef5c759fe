using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// A head of the softmax family: owns the learnable class-weight matrix W (C*K x D, one row per
/// identity and sub-centre, class c owning rows c*K .. c*K+K-1) and turns embeddings into logits
/// whose cross-entropy with the labels is the loss. Margin heads only rewrite the target logit.
/// </summary>
public abstract class ClassifierHead : FaceLossHead
{
    /// <summary>Creates the head and initialises W from N(0, 0.01^2), as insightface does.</summary>
    /// <param name="options">The head's options.</param>
    /// <param name="classCount">The number of identities C.</param>
    /// <param name="embeddingSize">The length of one embedding D.</param>
    /// <param name="rowsPerClass">Sub-centres per class K; 1 for every head but sub-center ArcFace.</param>
    /// <param name="dtype">The element type of W.</param>
    /// <param name="device">The device of W; the CPU when null.</param>
    protected ClassifierHead(FaceLossOptions options, int classCount, int embeddingSize, int rowsPerClass,
        ScalarType dtype, Device? device)
        : base(options, embeddingSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerClass, 1);
        ClassCount = classCount;
        RowsPerClass = rowsPerClass;
        using (no_grad())
        {
            var initial = normal(0.0, 0.01, new long[] { (long)classCount * rowsPerClass, embeddingSize }, dtype: dtype, device: device);
            Weight = new Parameter(initial, requires_grad: true);
        }
        register_parameter("weight", Weight);
    }

    /// <summary>The class-weight matrix W, (C*K) x D.</summary>
    public Parameter Weight { get; }

    /// <summary>The number of identities C.</summary>
    public int ClassCount { get; }

    /// <summary>The number of rows of W per identity K (sub-centres).</summary>
    public int RowsPerClass { get; }

    /// <summary>Replaces the values of W (for example with weights from another framework); shape (C*K) x D.</summary>
    public void SetWeight(Tensor values)
    {
        if (!values.shape.SequenceEqual(Weight.shape))
            throw new ArgumentException($"W must have shape [{string.Join(", ", Weight.shape)}], got [{string.Join(", ", values.shape)}].", nameof(values));
        using (no_grad()) Weight.copy_(values);
    }

    /// <summary>The N x C matrix of cosines between the L2-normalized rows of x and of W (K = 1).</summary>
    protected Tensor Cosine(Tensor embeddings)
        => nn.functional.normalize(embeddings, p: 2, dim: 1).mm(nn.functional.normalize(Weight, p: 2, dim: 1).t());

    /// <summary>The target cosine t = cos[i, y_i] as an N x 1 column.</summary>
    protected static Tensor Target(Tensor cosine, Tensor labels) => cosine.gather(1, labels.unsqueeze(1));

    /// <summary>Replaces the target logit of each row by <paramref name="newTarget"/> (N x 1), keeping the gradient of both.</summary>
    protected static Tensor ReplaceTarget(Tensor logits, Tensor labels, Tensor newTarget)
    {
        using var oneHot = nn.functional.one_hot(labels, logits.shape[1]).to(logits.dtype);
        return logits * (1 - oneHot) + oneHot * newTarget;
    }

    /// <summary>The batch mean of the softmax cross-entropy of <paramref name="logits"/> with the labels.</summary>
    protected static Tensor CrossEntropy(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);
}
