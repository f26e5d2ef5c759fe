using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Everything a training run needs to continue exactly where it stopped: the network, the heads'
/// weights and state, the optimizer, the position in the schedule and the sampler, torch's random
/// state and the validation bookkeeping. Written atomically (a temporary file moved over the old).
/// </summary>
internal sealed class TrainingCheckpoint
{
    public const string FileName = "checkpoint.bin";
    private const int FormatVersion = 1;

    /// <summary>What must match for a checkpoint to be resumed: network, head, identities, seed.</summary>
    public string Fingerprint { get; init; } = "";

    /// <summary>Epochs completed.</summary>
    public int CompletedEpochs { get; init; }

    /// <summary>Batches completed in the epoch after <see cref="CompletedEpochs"/>.</summary>
    public int BatchesInEpoch { get; init; }

    public long Step { get; init; }

    public double EpochLossSum { get; init; }

    public int EpochSteps { get; init; }

    /// <summary>Whether early stopping ended the run.</summary>
    public bool Finished { get; init; }

    public double BestValidationAccuracy { get; init; } = double.NegativeInfinity;

    public int EpochsWithoutImprovement { get; init; }

    public List<EpochSummary> History { get; init; } = new();

    public byte[] Network { get; init; } = Array.Empty<byte>();

    public byte[] Heads { get; init; } = Array.Empty<byte>();

    public byte[] Optimizer { get; init; } = Array.Empty<byte>();

    public byte[] RandomState { get; init; } = Array.Empty<byte>();

    /// <summary>The network weights of the best validation epoch, or empty.</summary>
    public byte[] BestNetwork { get; init; } = Array.Empty<byte>();

    public static string PathIn(string folder) => Path.Combine(folder, FileName);

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = PathIn(folder);
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = File.Create(temporary))
            using (var writer = new BinaryWriter(stream))
                ModelStreamFormat.Write(writer, FormatVersion, Write);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static TrainingCheckpoint? TryLoad(string folder)
    {
        string path = PathIn(folder);
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            return ModelStreamFormat.Read(reader, "training checkpoint", FormatVersion, (payload, _) => Read(payload));
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' cannot be read: {e.Message} Delete it to train from the start.", e);
        }
    }

    private void Write(BinaryWriter w)
    {
        w.Write(Fingerprint);
        w.Write(CompletedEpochs);
        w.Write(BatchesInEpoch);
        w.Write(Step);
        w.Write(EpochLossSum);
        w.Write(EpochSteps);
        w.Write(Finished);
        w.Write(BestValidationAccuracy);
        w.Write(EpochsWithoutImprovement);
        w.Write(History.Count);
        foreach (var e in History)
        {
            w.Write(e.Epoch);
            w.Write(e.Loss);
            WriteNullable(w, e.ValidationAccuracy);
            WriteNullable(w, e.ValidationAuc);
            WriteNullable(w, e.ValidationLoss);
        }
        foreach (var bytes in new[] { Network, Heads, Optimizer, RandomState, BestNetwork })
        {
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }

    private static TrainingCheckpoint Read(BinaryReader r)
    {
        string fingerprint = r.ReadString();
        int completed = r.ReadInt32(), batches = r.ReadInt32();
        long step = r.ReadInt64();
        double lossSum = r.ReadDouble();
        int epochSteps = r.ReadInt32();
        bool finished = r.ReadBoolean();
        double best = r.ReadDouble();
        int patience = r.ReadInt32();
        int count = r.ReadInt32();
        var history = new List<EpochSummary>();
        for (int i = 0; i < count; i++)
            history.Add(new EpochSummary { Epoch = r.ReadInt32(), Loss = r.ReadDouble(), ValidationAccuracy = ReadNullable(r), ValidationAuc = ReadNullable(r), ValidationLoss = ReadNullable(r) });
        byte[] Bytes() => r.ReadBytes(r.ReadInt32());
        return new TrainingCheckpoint
        {
            Fingerprint = fingerprint, CompletedEpochs = completed, BatchesInEpoch = batches, Step = step, EpochLossSum = lossSum,
            EpochSteps = epochSteps, Finished = finished, BestValidationAccuracy = best, EpochsWithoutImprovement = patience, History = history,
            Network = Bytes(), Heads = Bytes(), Optimizer = Bytes(), RandomState = Bytes(), BestNetwork = Bytes(),
        };
    }

    private static void WriteNullable(BinaryWriter w, double? value)
    {
        w.Write(value.HasValue);
        if (value.HasValue) w.Write(value.Value);
    }

    private static double? ReadNullable(BinaryReader r) => r.ReadBoolean() ? r.ReadDouble() : null;
}
