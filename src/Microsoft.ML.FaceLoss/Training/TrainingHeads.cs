using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// The loss head of a run and, with a softmax warm-up, the softmax head that trains first: which one
/// an epoch uses, the hand-over of the class weights, and their parameters and state for the optimizer
/// and checkpoints.
/// </summary>
internal sealed class TrainingHeads : IDisposable
{
    private readonly HeadSettings _settings;

    /// <param name="settings">The head settings.</param>
    /// <param name="classCount">The number of identities C.</param>
    /// <param name="embeddingSize">The embedding length D.</param>
    /// <param name="device">The device of the heads.</param>
    /// <param name="shard">With sharded class weights, this rank's identities: the heads hold only their rows.</param>
    public TrainingHeads(HeadSettings settings, int classCount, int embeddingSize, Device device, ClassShard? shard = null)
    {
        _settings = settings;
        Main = Create(settings.Loss, classCount, embeddingSize, device, shard);
        if (settings.SoftmaxWarmupEpochs > 0 && settings.Loss is not SoftmaxLoss.Options)
            Warmup = Create(new SoftmaxLoss.Options(), classCount, embeddingSize, device, shard);
    }

    private static FaceLossHead Create(FaceLossOptions options, int classCount, int embeddingSize, Device device, ClassShard? shard)
    {
        if (shard is not { } part || !options.HasClassWeights) return options.CreateHead(classCount, embeddingSize, ScalarType.Float32, device);
        using var before = torch.random.get_rng_state();
        var head = options.CreateHead(part.Count, embeddingSize, ScalarType.Float32, device);
        // On the CPU the shard's rows get the values the whole W would have (torch draws them in order there).
        if (device.type == DeviceType.CPU)
            head.DrawAsRowsOf((long)classCount * options.RowsPerClass, (long)part.First * options.RowsPerClass, before);
        return head;
    }

    /// <summary>The chosen head.</summary>
    public FaceLossHead Main { get; }

    /// <summary>The softmax head of the warm-up epochs, or null.</summary>
    public FaceLossHead? Warmup { get; }

    /// <summary>Every learnable parameter of the heads.</summary>
    public IEnumerable<Parameter> Parameters => Main.parameters().Concat(Warmup?.parameters() ?? Enumerable.Empty<Parameter>());

    /// <summary>The heads (the chosen one, then the warm-up head where there is one).</summary>
    public IEnumerable<FaceLossHead> Modules => Warmup is null ? new[] { Main } : new[] { Main, Warmup };

    /// <summary>
    /// The heads as shards of the class weights across ranks: they were made over the shard's identities
    /// only (<paramref name="shard"/>'s count as their class count).
    /// </summary>
    /// <exception cref="InvalidOperationException">A head cannot be sharded; the message says why.</exception>
    public (ShardedClassifier Main, ShardedClassifier? Warmup) Shard(ClassShard shard, ICommunicator communicator)
    {
        ShardedClassifier Of(FaceLossHead head) => head is ClassifierHead classifier && head.HeadOptions.ShardingLimitation is null
            ? new ShardedClassifier(classifier, shard, communicator)
            : throw new InvalidOperationException($"The {head.HeadOptions.HeadName} head cannot train with sharded class weights: {head.HeadOptions.ShardingLimitation}.");
        return (Of(Main), Warmup is null ? null : Of(Warmup));
    }

    /// <summary>The head that trains epoch <paramref name="epoch"/> (from 1).</summary>
    public FaceLossHead ActiveIn(int epoch) => Warmup is not null && epoch <= _settings.SoftmaxWarmupEpochs ? Warmup : Main;

    /// <summary>At the start of the first epoch after the warm-up, the chosen head takes over the softmax class weights.</summary>
    public void HandOverIfDue(int epoch, int batchesDoneInEpoch, Action<string> log)
    {
        if (Warmup is null || epoch != _settings.SoftmaxWarmupEpochs + 1 || batchesDoneInEpoch != 0) return;
        if (Main.Weight is null || Warmup.Weight is null) return;
        int rowsPerClass = (int)(Main.Weight.shape[0] / Warmup.Weight.shape[0]);
        using (no_grad())
        using (var repeated = Warmup.Weight.repeat_interleave(rowsPerClass, 0))
            Main.SetWeight(repeated);
        log($"Softmax warm-up done: {Main.HeadOptions.HeadName} starts from the softmax class weights.");
    }

    /// <summary>Writes the heads' weights and state (for checkpoints).</summary>
    public void Save(BinaryWriter writer)
    {
        Main.save(writer);
        Warmup?.save(writer);
    }

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    public void Load(BinaryReader reader)
    {
        Main.load(reader);
        Warmup?.load(reader);
    }

    public void Dispose()
    {
        Main.Dispose();
        Warmup?.Dispose();
    }
}
