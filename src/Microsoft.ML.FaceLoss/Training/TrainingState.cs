using Microsoft.ML.FaceLoss.Embedding;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Where a training run stands: the position in the schedule, the running loss of the epoch, the
/// validation bookkeeping and the history. A checkpoint saves it; a resumed run continues from it.
/// </summary>
internal sealed class TrainingState
{
    /// <summary>Epochs completed.</summary>
    public int CompletedEpochs;

    /// <summary>Batches completed in the epoch after <see cref="CompletedEpochs"/>.</summary>
    public int BatchesInEpoch;

    /// <summary>Optimizer steps taken.</summary>
    public long Step;

    /// <summary>The sum of the losses of the current epoch's steps.</summary>
    public double EpochLossSum;

    /// <summary>The current epoch's steps.</summary>
    public int EpochSteps;

    /// <summary>Whether early stopping ended the run.</summary>
    public bool Finished;

    /// <summary>The best validation accuracy so far.</summary>
    public double BestValidationAccuracy = double.NegativeInfinity;

    /// <summary>Epochs since the best validation accuracy.</summary>
    public int EpochsWithoutImprovement;

    /// <summary>What each completed epoch achieved.</summary>
    public List<EpochSummary> History = new();

    /// <summary>The network weights of the best validation epoch, or empty.</summary>
    public byte[] BestNetwork = Array.Empty<byte>();

    /// <summary>Writes everything but <see cref="BestNetwork"/> (which checkpoints write last).</summary>
    public void Write(BinaryWriter w)
    {
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
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static TrainingState Read(BinaryReader r)
    {
        var state = new TrainingState
        {
            CompletedEpochs = r.ReadInt32(), BatchesInEpoch = r.ReadInt32(), Step = r.ReadInt64(), EpochLossSum = r.ReadDouble(),
            EpochSteps = r.ReadInt32(), Finished = r.ReadBoolean(), BestValidationAccuracy = r.ReadDouble(), EpochsWithoutImprovement = r.ReadInt32(),
        };
        int count = r.ReadInt32();
        if (count < 0 || count > 1_000_000) throw new InvalidDataException($"The checkpoint's history has {count} epochs.");
        for (int i = 0; i < count; i++)
            state.History.Add(new EpochSummary { Epoch = r.ReadInt32(), Loss = r.ReadDouble(), ValidationAccuracy = ReadNullable(r), ValidationAuc = ReadNullable(r), ValidationLoss = ReadNullable(r) });
        return state;
    }

    private static void WriteNullable(BinaryWriter w, double? value)
    {
        w.Write(value.HasValue);
        if (value.HasValue) w.Write(value.Value);
    }

    private static double? ReadNullable(BinaryReader r) => r.ReadBoolean() ? r.ReadDouble() : null;
}
