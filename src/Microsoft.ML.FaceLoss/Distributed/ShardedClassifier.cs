using Microsoft.ML.FaceLoss.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>
/// A classifier head whose class weights are sharded across ranks (model parallel, as insightface's
/// Partial FC trains millions of identities): this rank's head holds the rows of its
/// <see cref="ClassShard"/> only. Every rank sees the embeddings and labels of all ranks (gathered by
/// the caller), computes the logits of its classes with the head's own margin, and the softmax
/// cross-entropy over all classes is assembled from all-reduced row maxima, sums of exponentials and
/// target logits. With <see cref="ClassifierOptions.SampleRate"/> below 1 each rank keeps the classes
/// of the batch that fall in its shard and a random share of its others (Partial FC per rank).
/// </summary>
internal sealed class ShardedClassifier
{
    private readonly ClassifierHead _head;
    private readonly ClassShard _shard;
    private readonly ICommunicator _communicator;
    private readonly double _sampleRate;

    /// <param name="head">The head over the shard's identities only (its class count is the shard's).</param>
    /// <param name="shard">This rank's identities.</param>
    /// <param name="communicator">The ranks.</param>
    public ShardedClassifier(ClassifierHead head, ClassShard shard, ICommunicator communicator)
    {
        if (head.ClassCount != shard.Count)
            throw new ArgumentException($"The head holds {head.ClassCount} identities; the shard has {shard.Count}.", nameof(head));
        if (head.HeadOptions.ShardingLimitation is { } reason)
            throw new ArgumentException($"The {head.HeadOptions.HeadName} head cannot be sharded: {reason}.", nameof(head));
        _head = head;
        _shard = shard;
        _communicator = communicator;
        _sampleRate = ((ClassifierOptions)head.HeadOptions).SampleRate;
    }

    /// <summary>The head over this rank's identities.</summary>
    public ClassifierHead Head => _head;

    /// <summary>
    /// The loss of all ranks' rows over all identities (the same value on every rank), and a surrogate
    /// scalar whose gradients with respect to <paramref name="embeddings"/> and to this rank's class
    /// weights are this rank's share of the loss's: summed over ranks, the embeddings' gradient is the
    /// loss's; the class weights' gradient is the loss's already.
    /// </summary>
    /// <param name="embeddings">All ranks' embeddings, B x D, in rank order (the same on every rank).</param>
    /// <param name="labels">All ranks' 0-based labels over all identities, B, int64.</param>
    public (Tensor Surrogate, double Loss) Forward(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long rows = embeddings.shape[0];
        int perClass = _head.RowsPerClass;
        Tensor inShard, local, rowIndex;
        long columns;
        using (no_grad())
        {
            inShard = labels.ge(_shard.First).logical_and(labels.lt(_shard.First + _shard.Count));
            // Labels of other shards go to a placeholder class after the shard's, whose logits are dropped.
            local = (labels - _shard.First).masked_fill(inShard.logical_not(), _shard.Count);
            (rowIndex, local, columns) = _head.training && _sampleRate < 1 ? Sample(local, inShard) : (null!, local, _shard.Count);
        }
        var weight = rowIndex is null ? _head.Weight : _head.Weight.index_select(0, rowIndex);
        var placeholder = zeros(perClass, weight.shape[1], weight.dtype, weight.device);
        var logits = _head.ShardLogits(embeddings, local, cat(new[] { weight, placeholder }, 0)).narrow(1, 0, columns);

        Tensor probabilities;
        double loss;
        using (no_grad())
        {
            var max = logits.amax(new long[] { 1 }).contiguous();
            _communicator.AllReduce(max, ReduceOperation.Max);
            var exponentials = (logits - max.unsqueeze(1)).exp();
            var sum = exponentials.sum(1).contiguous();
            _communicator.AllReduce(sum, ReduceOperation.Sum);
            probabilities = exponentials / sum.unsqueeze(1);
            var target = (logits.gather(1, local.clamp_max(columns - 1).unsqueeze(1)).squeeze(1) * inShard.to(logits.dtype)).contiguous();
            _communicator.AllReduce(target, ReduceOperation.Sum);
            loss = (max + sum.log() - target).mean().ToDouble();
        }
        // d loss / d logit = (softmax - onehot) / B on this rank's columns.
        var oneHot = nn.functional.one_hot(local, columns + 1).narrow(1, 0, columns).to(logits.dtype);
        var surrogate = ((probabilities - oneHot) * logits).sum() / rows;
        return (surrogate.MoveToOuterDisposeScope(), loss);
    }

    /// <summary>
    /// Partial FC on this shard: the shard's classes among the labels and a random share of the rest,
    /// at least <c>SampleRate</c> of the shard; returns the rows of W they use, the labels renumbered
    /// into them (the placeholder after them) and their count.
    /// </summary>
    private (Tensor Rows, Tensor Labels, long Columns) Sample(Tensor local, Tensor inShard)
    {
        var (classes, rows) = PartialFcSampling.Choose(local.masked_select(inShard).unique().Item1, _shard.Count, _sampleRate, _head.RowsPerClass);
        long keep = classes.shape[0];
        var position = PartialFcSampling.Positions(classes, _shard.Count + 1, otherwise: keep); // the placeholder after the chosen
        return (rows, position.index_select(0, local), keep);
    }
}
