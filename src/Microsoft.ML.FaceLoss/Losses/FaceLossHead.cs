using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// A loss head: computes one scalar loss from a batch of embeddings (N x D, as the backbone emits
/// them) and integer labels (N, values 0..C-1). Heads are TorchSharp modules: their learnable weights
/// are parameters (trained by the same optimiser as the backbone) and their state (running
/// statistics, centres, schedules) is kept in buffers named as the specification names it, so that
/// <c>state_dict</c> saves and restores both. A head knows nothing of ML.NET and can be used on its
/// own: <c>using var loss = head.forward(embeddings, labels); loss.backward();</c>.
/// </summary>
public abstract class FaceLossHead : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the head.</summary>
    /// <param name="options">The options that made the head; copied, so later changes to them have no effect.</param>
    /// <param name="embeddingSize">The length of one embedding.</param>
    protected FaceLossHead(FaceLossOptions options, int embeddingSize) : base(options.HeadName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingSize, 1);
        HeadOptions = options.Clone();
        EmbeddingSize = embeddingSize;
    }

    /// <summary>The options (name and parameters) of this head.</summary>
    public FaceLossOptions HeadOptions { get; }

    /// <summary>The length of one embedding.</summary>
    public int EmbeddingSize { get; }

    /// <summary>
    /// The learnable class-weight matrix W ((C*K) x D, one row per identity and sub-centre, class c
    /// owning rows c*K .. c*K+K-1), or null for heads without a classifier (pair and triplet heads).
    /// </summary>
    public Parameter? Weight { get; private set; }

    /// <summary>Replaces the values of W (for example with weights trained elsewhere).</summary>
    /// <exception cref="InvalidOperationException">The head has no class weights.</exception>
    /// <exception cref="ArgumentException">The shape differs from W's.</exception>
    public void SetWeight(Tensor values)
    {
        if (Weight is null) throw new InvalidOperationException($"The {HeadOptions.HeadName} head has no class weights.");
        if (!values.shape.SequenceEqual(Weight.shape))
            throw new ArgumentException($"W must have shape [{string.Join(", ", Weight.shape)}], got [{string.Join(", ", values.shape)}].", nameof(values));
        using (no_grad()) Weight.copy_(values);
    }

    /// <summary>
    /// Creates and registers W with entries drawn uniformly from [-1/sqrt(D), 1/sqrt(D)], as a torch
    /// linear layer starts: large enough that unnormalized heads learn from small embeddings (the 2-D
    /// features of LeNet++); normalized heads do not depend on the scale.
    /// </summary>
    protected Parameter CreateWeight(long rows, ScalarType dtype, Device? device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        using (no_grad())
            Weight = new Parameter(UniformRows(rows, dtype, device), requires_grad: true);
        register_parameter("weight", Weight);
        return Weight;
    }

    // In place: (r * 2 - 1) * bound with no temporary copies of W (it may be 100,000 x 512).
    private Tensor UniformRows(long rows, ScalarType dtype, Device? device)
        => rand(new long[] { rows, EmbeddingSize }, dtype: dtype, device: device).mul_(2).sub_(1).mul_(1 / Math.Sqrt(EmbeddingSize));

    /// <summary>
    /// Gives W (a shard of <paramref name="totalRows"/> rows starting at <paramref name="firstRow"/>) the
    /// values the whole W would get from the random state current before this head was made: the whole
    /// matrix is drawn in blocks and only the shard's rows kept, so that on the CPU a sharded run starts
    /// as one process does, with the random state where one process leaves it.
    /// </summary>
    internal void DrawAsRowsOf(long totalRows, long firstRow, Tensor randomStateBefore)
    {
        if (Weight is null) throw new InvalidOperationException($"The {HeadOptions.HeadName} head has no class weights.");
        const long block = 8192;
        long count = Weight.shape[0];
        torch.random.set_rng_state(randomStateBefore);
        using var noGrad = no_grad();
        for (long start = 0; start < totalRows; start += block)
        {
            long length = Math.Min(block, totalRows - start);
            using var values = UniformRows(length, Weight.dtype, Weight.device);
            long from = Math.Max(start, firstRow), to = Math.Min(start + length, firstRow + count);
            if (from >= to) continue;
            using var target = Weight.narrow(0, from - firstRow, to - from);
            using var source = values.narrow(0, from - start, to - from);
            target.copy_(source);
        }
    }

    /// <summary>Creates and registers a state buffer under its snake_case name.</summary>
    protected Tensor CreateState(string name, Tensor initial)
    {
        register_buffer(name, initial);
        return initial;
    }

    /// <summary>
    /// The head's state by its snake_case name (for example <c>t</c> of CurricularFace or
    /// <c>centers</c> of center loss); empty for stateless heads. The tensors are the live buffers.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> State
        => named_buffers().ToDictionary(b => b.name, b => b.buffer);

    /// <summary>Computes the mean loss of the batch.</summary>
    /// <param name="embeddings">N x D embeddings, not normalized unless the head says so.</param>
    /// <param name="labels">N labels of type int64 in 0..C-1.</param>
    public abstract override Tensor forward(Tensor embeddings, Tensor labels);

    /// <summary>Checks the shapes of a batch and throws an exception that names the problem.</summary>
    protected void CheckBatch(Tensor embeddings, Tensor labels)
    {
        if (embeddings.dim() != 2 || embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"The {HeadOptions.HeadName} head expects embeddings of shape N x {EmbeddingSize}, got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        if (labels.dim() != 1 || labels.shape[0] != embeddings.shape[0])
            throw new ArgumentException($"The {HeadOptions.HeadName} head expects one label per embedding ({embeddings.shape[0]}), got shape [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"The {HeadOptions.HeadName} head expects int64 labels, got {labels.dtype}.", nameof(labels));
    }

    /// <summary>Throws when a label lies outside 0..<paramref name="classCount"/>-1, the identities the head was made for.</summary>
    protected void CheckLabelRange(Tensor labels, long classCount)
    {
        if (labels.numel() == 0) return;
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= classCount)
            throw new ArgumentOutOfRangeException(nameof(labels), $"The {HeadOptions.HeadName} head was made for {classCount} identities (labels 0 to {classCount - 1}) but got label {(min < 0 ? min : max)}.");
    }
}
