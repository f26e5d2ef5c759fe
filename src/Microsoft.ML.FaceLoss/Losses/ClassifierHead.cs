using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// A head of the softmax family. It owns the class-weight matrix W, the class sampling of Partial FC
/// and the cross-entropy; a head derived from it states only how it turns the batch into logits
/// (<see cref="Logits"/>: usually the cosines with the target logit rewritten) and, where it has one,
/// the term it adds (<see cref="ExtraLoss"/>). With <see cref="ClassifierOptions.SampleRate"/> below 1,
/// each training step uses only the batch's own classes and a random share of the others (Partial FC,
/// An et al. 2021), so that very many identities train in little memory.
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
    public new Parameter Weight => base.Weight!;

    /// <summary>The number of identities C.</summary>
    public int ClassCount { get; }

    /// <summary>The number of rows of W per identity K (sub-centres).</summary>
    public int RowsPerClass { get; }

    /// <inheritdoc />
    public sealed override Tensor forward(Tensor embeddings, Tensor labels)
    {
        CheckBatch(embeddings, labels);
        CheckLabelRange(labels, ClassCount);
        using var scope = NewDisposeScope();
        var (weight, classLabels) = training && _sampleRate < 1 ? SampleClasses(labels) : (Weight, labels);
        var batch = new ClassifierBatch(embeddings, classLabels, weight, RowsPerClass);
        var loss = nn.functional.cross_entropy(Logits(batch), classLabels);
        if (ExtraLoss(batch) is { } extra) loss = loss + extra;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The logits of one shard of the classes (see <c>Distributed.ShardedClassifier</c>): <paramref name="weightRows"/>
    /// holds the shard's rows and, last, the rows of a placeholder class that takes the labels of other shards.
    /// </summary>
    internal Tensor ShardLogits(Tensor embeddings, Tensor labels, Tensor weightRows)
        => Logits(new ClassifierBatch(embeddings, labels, weightRows, RowsPerClass));

    /// <summary>The N x C' logits of the batch, whose softmax cross-entropy with the labels is the loss.</summary>
    protected abstract Tensor Logits(ClassifierBatch batch);

    /// <summary>A term added to the cross-entropy (MagFace's regulariser, center loss's centre term); none by default.</summary>
    protected virtual Tensor? ExtraLoss(ClassifierBatch batch) => null;

    /// <summary>The batch's classes and a random share of the others; labels renumbered into that subset.</summary>
    private (Tensor Rows, Tensor Labels) SampleClasses(Tensor labels)
    {
        using var noGrad = no_grad();
        var (classes, rowIndex) = PartialFcSampling.Choose(labels.unique().Item1, ClassCount, _sampleRate, RowsPerClass);
        var remapped = PartialFcSampling.Positions(classes, ClassCount, otherwise: -1).index_select(0, labels);
        noGrad.Dispose();
        return (Weight.index_select(0, rowIndex), remapped);
    }
}

/// <summary>A classifier head with its options typed: <see cref="HeadOptions"/>.</summary>
/// <typeparam name="TOptions">The head's options.</typeparam>
public abstract class ClassifierHead<TOptions> : ClassifierHead where TOptions : ClassifierOptions
{
    /// <summary>Creates the head (see <see cref="ClassifierHead"/>).</summary>
    protected ClassifierHead(TOptions options, int classCount, int embeddingSize, ScalarType dtype, Device? device)
        : base(options, classCount, embeddingSize, dtype, device)
    {
    }

    /// <summary>The head's own copy of its options (name and parameters).</summary>
    public new TOptions HeadOptions => (TOptions)base.HeadOptions;
}
