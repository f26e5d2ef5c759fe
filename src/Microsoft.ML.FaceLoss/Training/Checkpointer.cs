using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Embedding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Writes a run's checkpoints and restores a run from one: the state, the network, the heads, the
/// optimizer and torch's random state, so that on the CPU a resumed run ends with the same weights
/// as an uninterrupted one. A checkpoint of another run (see <see cref="TrainingFingerprint"/>) is
/// refused with what differs. Of several ranks, only those that <c>write</c> save; where a communicator
/// is given, rank 0 reads the checkpoint and sends it to the others.
/// </summary>
internal sealed class Checkpointer
{
    private readonly string _folder;
    private readonly TrainingFingerprint _fingerprint;
    private readonly bool _writes;
    private readonly ICommunicator? _sharedFromRoot;

    /// <param name="folder">The checkpoint's folder.</param>
    /// <param name="fingerprint">What a checkpoint must match to be resumed.</param>
    /// <param name="writes">Whether this process saves checkpoints (rank 0, or every rank with sharded class weights).</param>
    /// <param name="sharedFromRoot">Where given, rank 0 reads the checkpoint and broadcasts it; null: each process reads its folder.</param>
    public Checkpointer(string folder, TrainingFingerprint fingerprint, bool writes = true, ICommunicator? sharedFromRoot = null)
    {
        _folder = folder;
        _fingerprint = fingerprint;
        _writes = writes;
        _sharedFromRoot = sharedFromRoot;
    }

    public string Path => TrainingCheckpoint.PathIn(_folder);

    public void Save(TrainingState state, EmbeddingNetwork network, TrainingHeads heads, OptimizerHelper optimizer)
    {
        if (!_writes) return;
        using var random = torch.random.get_rng_state();
        new TrainingCheckpoint
        {
            Fingerprint = _fingerprint, State = state, Network = Serialize(w => network.Module.save(w)),
            Heads = Serialize(heads.Save), Optimizer = Serialize(optimizer.save_state_dict), RandomState = random.data<byte>().ToArray(),
        }.Save(_folder);
    }

    /// <summary>Restores the run from the folder's checkpoint; null where there is none.</summary>
    /// <exception cref="InvalidOperationException">The checkpoint belongs to another run; the message lists what differs.</exception>
    public TrainingState? TryRestore(EmbeddingNetwork network, TrainingHeads heads, OptimizerHelper optimizer)
    {
        if ((_sharedFromRoot is null ? TrainingCheckpoint.TryLoad(_folder) : ReceiveFromRoot(_sharedFromRoot)) is not { } checkpoint) return null;
        var differences = _fingerprint.Differences(checkpoint.Fingerprint).ToList();
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"The checkpoint in '{_folder}' belongs to another training run: {string.Join("; ", differences)}. " +
                "Use another CheckpointFolder, or delete the checkpoint to train from the start.");
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Network))) network.Module.load(reader);
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Heads))) heads.Load(reader);
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer))) optimizer.load_state_dict(reader);
        using (var rng = tensor(checkpoint.RandomState)) torch.random.set_rng_state(rng);
        return checkpoint.State;
    }

    /// <summary>Rank 0's checkpoint, read by rank 0 and sent to every rank; null where rank 0 has none.</summary>
    private TrainingCheckpoint? ReceiveFromRoot(ICommunicator communicator)
    {
        string path = TrainingCheckpoint.PathIn(_folder);
        byte[] bytes = communicator.Rank == 0 && File.Exists(path) ? File.ReadAllBytes(path) : Array.Empty<byte>();
        var length = new[] { (double)bytes.Length };
        communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(length.AsSpan()), root: 0);
        if (length[0] == 0) return null;
        if (communicator.Rank != 0) bytes = new byte[(int)length[0]];
        communicator.Broadcast(bytes, root: 0);
        return TrainingCheckpoint.Parse(bytes, path);
    }

    /// <summary>The bytes <paramref name="write"/> writes.</summary>
    public static byte[] Serialize(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) write(writer);
        return stream.ToArray();
    }
}
