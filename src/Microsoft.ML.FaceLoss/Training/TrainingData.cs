using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Rows read once from a data view into memory: pixels and 0-based labels.</summary>
internal sealed class TrainingData
{
    public TrainingData(float[] pixels, int[] labels, int inputLength, int classCount)
    {
        Pixels = pixels;
        Labels = labels;
        InputLength = inputLength;
        ClassCount = classCount;
    }

    /// <summary>Row after row of C x H x W values.</summary>
    public float[] Pixels { get; }

    /// <summary>The label of each row, 0..C-1.</summary>
    public int[] Labels { get; }

    public int InputLength { get; }

    public int ClassCount { get; }

    public int Count => Labels.Length;

    /// <summary>Reads the feature and key-typed label columns; refuses missing labels and non-finite pixels.</summary>
    public static TrainingData Read(IDataView data, DataViewSchema.Column feature, DataViewSchema.Column label, int inputLength, int classCount)
    {
        // Where the data view knows its row count, the pixels go straight into one array of the final
        // size; a growing list would hold up to three times the data set while it grows and is copied.
        long? known = data.GetRowCount();
        if (known is { } rows && rows * inputLength > Array.MaxLength) throw TooLarge(rows, inputLength);
        var pixels = new float[(known ?? 16) * inputLength];
        var labels = new List<int>();
        using var cursor = data.GetRowCursor(new[] { feature, label });
        var getFeatures = cursor.GetGetter<VBuffer<float>>(feature);
        var getLabel = cursor.GetGetter<uint>(label);
        VBuffer<float> buffer = default;
        uint key = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            CheckKey(key, classCount, cursor.Position, label.Name);
            if ((long)(labels.Count + 1) * inputLength > pixels.Length)
            {
                if ((long)(labels.Count + 1) * inputLength > Array.MaxLength) throw TooLarge(labels.Count + 1, inputLength);
                Array.Resize(ref pixels, (int)Math.Min(Array.MaxLength, Math.Max(2L * pixels.Length, (long)(labels.Count + 1) * inputLength)));
            }
            getFeatures(ref buffer);
            CopyRow(buffer, pixels.AsSpan(labels.Count * inputLength, inputLength), cursor.Position, feature.Name);
            labels.Add((int)key - 1);
        }
        if (labels.Count == 0)
            throw new InvalidOperationException("The training data has no rows.");
        if (pixels.Length != labels.Count * inputLength) Array.Resize(ref pixels, labels.Count * inputLength);
        return new TrainingData(pixels, labels.ToArray(), inputLength, classCount);
    }

    private static InvalidOperationException TooLarge(long rows, int inputLength)
        => new($"The training data has at least {rows} rows of {inputLength} values, more than one array in memory holds ({Array.MaxLength} values). " +
               "Set InMemory = false to stream the rows from the data view each epoch, or use smaller images.");

    /// <summary>Throws, naming the row and the column, when a key value is missing (0) or beyond the key type's count of identities.</summary>
    public static void CheckKey(uint key, int classCount, long row, string column)
    {
        if (key == 0)
            throw new InvalidOperationException(
                $"Row {row} has no label (key value 0) in column '{column}': its identity is missing, or outside the key type's {classCount} values " +
                "(ML.NET reads a key beyond its type's count as 0). Remove rows without an identity, or map every identity with MapValueToKey fitted on all of them.");
        if (key > classCount)
            throw new InvalidOperationException($"Row {row} of label column '{column}' holds key value {key}, beyond the {classCount} identities its key type counts. Make the column with MapValueToKey, which counts every identity.");
    }

    /// <summary>Copies one feature vector, refusing a wrong length and non-finite values with the row and column named.</summary>
    public static void CopyRow(in VBuffer<float> source, Span<float> destination, long row, string column)
    {
        if (source.Length != destination.Length)
            throw new InvalidOperationException($"Row {row} of column '{column}' has {source.Length} values; {destination.Length} expected.");
        source.CopyTo(destination);
        for (int i = 0; i < destination.Length; i++)
        {
            if (!float.IsFinite(destination[i]))
                throw new InvalidOperationException($"Row {row} of column '{column}' holds a non-finite value ({destination[i]}) at index {i}. Check the image and the pixel scaling (ExtractPixels scaleImage/offsetImage).");
        }
    }

    /// <summary>
    /// Splits off a share of the identities (seeded) as validation data; the remaining identities are
    /// renumbered 0..C'-1. Returns the training part, the validation part, and the training label of
    /// each original label (-1 for held-out identities).
    /// </summary>
    public (TrainingData Training, TrainingData Validation, int[] LabelMap) HoldOutIdentities(double fraction, int seed)
    {
        var identities = Labels.Distinct().Order().ToArray();
        if (identities.Length < 4)
            throw new InvalidOperationException(
                $"ValidationIdentityFraction {fraction} needs at least 4 identities (2 held out for validation, 2 left to train); the data has {identities.Length}. " +
                "Give more identities, or validation data of other identities (ValidationData), or set ValidationIdentityFraction to 0.");
        new Random(seed).Shuffle(identities);
        int heldOut = Math.Clamp((int)Math.Round(fraction * identities.Length), 2, identities.Length - 2);
        var validationIdentities = identities.Take(heldOut).ToHashSet();
        var map = Enumerable.Repeat(-1, ClassCount).ToArray();
        int next = 0;
        foreach (int identity in Labels.Distinct().Order())
            if (!validationIdentities.Contains(identity)) map[identity] = next++;
        return (Subset(i => map[Labels[i]] >= 0, l => map[l], next), Subset(i => map[Labels[i]] < 0, l => l, ClassCount), map);
    }

    private TrainingData Subset(Func<int, bool> keep, Func<int, int> relabel, int classCount)
    {
        var rows = Enumerable.Range(0, Count).Where(keep).ToArray();
        return new TrainingData(RowGather.Copy(Pixels, InputLength, rows), rows.Select(r => relabel(Labels[r])).ToArray(), InputLength, classCount);
    }
}
