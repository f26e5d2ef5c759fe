using Microsoft.ML.FaceLoss.Losses;
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

    public TrainingHeads(HeadSettings settings, int classCount, int embeddingSize, Device device)
    {
        _settings = settings;
        Main = settings.Loss.CreateHead(classCount, embeddingSize, ScalarType.Float32, device);
        if (settings.SoftmaxWarmupEpochs > 0 && settings.Loss is not SoftmaxLoss.Options)
            Warmup = new SoftmaxLoss.Options().CreateHead(classCount, embeddingSize, ScalarType.Float32, device);
    }

    /// <summary>The chosen head.</summary>
    public FaceLossHead Main { get; }

    /// <summary>The softmax head of the warm-up epochs, or null.</summary>
    public FaceLossHead? Warmup { get; }

    /// <summary>Every learnable parameter of the heads.</summary>
    public IEnumerable<Parameter> Parameters => Main.parameters().Concat(Warmup?.parameters() ?? Enumerable.Empty<Parameter>());

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
