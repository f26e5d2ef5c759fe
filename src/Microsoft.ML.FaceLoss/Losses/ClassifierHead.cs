using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// A head of the softmax family: owns the class-weight matrix W and turns embeddings into logits
/// whose cross-entropy with the labels is the loss; margin heads only rewrite the target logit.
/// With <see cref="ClassifierOptions.SampleRate"/> below 1, each training step uses only the
/// batch's own classes and a random share of the others (Partial FC, An et al. 2021), so that very
/// many identities train in little memory.
/// </summary>
public abstract class ClassifierHead : FaceLossHead
{
    private readonly double _sampleRate;

    /// <summary>Creates the head and W ((C*K) x D), uniform in [-1/sqrt(D), 1/sqrt(D)].</summary>
    /// <param name="options">The head's options.</param>
    /// <param name="classCount">The number of identities C.</param>
    /// <param name="embeddingSize">The length of one embedding D.</param>
    /// <param name="dtype">The element type of W and the state.</param>
    /// <param name="device">The device of W and the state; the CPU when null.</param>
    protected ClassifierHead(ClassifierOptions options, int classCount, int embeddingSize, ScalarType dtype, Device? device)
        : base(options, embeddingSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ClassCount = classCount;
        RowsPerClass = options.RowsPerClass;
        _sampleRate = options.SampleRate;
        CreateWeight((long)classCount * RowsPerClass, dtype, device);
    }

    /// <summary>The class-weight matrix W, (C*K) x D.</summary>
    public new TorchSharp.Modules.Parameter Weight => base.Weight!;

    /// <summary>The number of identities C.</summary>
    public int ClassCount { get; }

    /// <summary>The number of rows of W per identity K (sub-centres).</summary>
    public int RowsPerClass { get; }

    /// <inheritdoc />
    public sealed override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        using var scope = NewDisposeScope();
        if (!training || _sampleRate >= 1)
            return Loss(embeddings, labels, Weight).MoveToOuterDisposeScope();
        var (rows, sampledLabels) = SampleClasses(labels);
        return Loss(embeddings, sampledLabels, rows).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Computes the loss against the class-weight rows <paramref name="weight"/> ((C'*K) x D), where
    /// <paramref name="labels"/> index the C' classes of these rows.
    /// </summary>
    protected abstract Tensor Loss(Tensor embeddings, Tensor labels, Tensor weight);

    /// <summary>The N x C' cosines between the normalized embeddings and the normalized rows of <paramref name="weight"/>, the best sub-centre of each class.</summary>
    protected Tensor Cosine(Tensor embeddings, Tensor weight)
    {
        var cosine = nn.functional.normalize(embeddings, p: 2, dim: 1).mm(nn.functional.normalize(weight, p: 2, dim: 1).t());
        if (RowsPerClass == 1) return cosine;
        return cosine.view(cosine.shape[0], -1, RowsPerClass).amax(new long[] { 2 });
    }

    /// <summary>The target cosine t = cos[i, y_i] as an N x 1 column.</summary>
    protected static Tensor Target(Tensor cosine, Tensor labels) => cosine.gather(1, labels.unsqueeze(1));

    /// <summary>An N x C' matrix with 1 at each row's label.</summary>
    protected static Tensor OneHot(Tensor labels, long classes, ScalarType dtype)
        => nn.functional.one_hot(labels, classes).to(dtype);

    /// <summary>Replaces the target logit of each row by <paramref name="newTarget"/> (N x 1), keeping the gradient of both.</summary>
    protected static Tensor ReplaceTarget(Tensor logits, Tensor labels, Tensor newTarget)
    {
        var oneHot = OneHot(labels, logits.shape[1], logits.dtype);
        return logits * (1 - oneHot) + oneHot * newTarget;
    }

    /// <summary>The batch mean of the softmax cross-entropy of <paramref name="logits"/> with the labels.</summary>
    protected static Tensor CrossEntropy(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);

    /// <summary>The batch's classes and a random share of the others; labels renumbered into that subset.</summary>
    private (Tensor Rows, Tensor Labels) SampleClasses(Tensor labels)
    {
        using var noGrad = no_grad();
        var positives = labels.unique().Item1;
        long keep = Math.Max(positives.shape[0], (long)Math.Ceiling(_sampleRate * ClassCount));
        var score = rand(ClassCount, device: labels.device);
        score.index_fill_(0, positives, 2.0); // positives first
        var classes = score.topk((int)keep).indexes.sort().Values;
        var position = full(ClassCount, -1L, ScalarType.Int64, device: labels.device);
        position.index_put_(arange(keep, ScalarType.Int64, device: labels.device), classes);
        var remapped = position.index_select(0, labels);
        var rowIndex = RowsPerClass == 1
            ? classes
            : (classes.unsqueeze(1) * RowsPerClass + arange(RowsPerClass, ScalarType.Int64, device: labels.device)).flatten();
        noGrad.Dispose();
        return (Weight.index_select(0, rowIndex), remapped);
    }
}

/// <summary>The options every classifier head shares.</summary>
public abstract class ClassifierOptions : FaceLossOptions
{
    private double _sampleRate = 1;

    /// <summary>
    /// The share of the classes each training step uses (Partial FC): the batch's own classes plus
    /// random others up to this share of C; 1 uses all. In (0, 1]. Default: 1.
    /// </summary>
    /// <remarks>Not a parameter of the loss itself, so not part of the golden files; saved with the model.</remarks>
    [LossParameter("sample_rate")]
    public double SampleRate
    {
        get => _sampleRate;
        set => _sampleRate = double.IsFinite(value) && value > 0 && value <= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(SampleRate), value, "SampleRate must lie in (0, 1].");
    }
}
