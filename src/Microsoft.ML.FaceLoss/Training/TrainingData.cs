using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>The training rows, read once from the data view into memory: pixels and 0-based labels.</summary>
internal sealed class TrainingData
{
    private TrainingData(float[] pixels, int[] labels, int inputLength, int classCount)
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
        var pixels = new List<float>();
        var labels = new List<int>();
        using var cursor = data.GetRowCursor(new[] { feature, label });
        var getFeatures = cursor.GetGetter<VBuffer<float>>(feature);
        var getLabel = cursor.GetGetter<uint>(label);
        VBuffer<float> buffer = default;
        uint key = 0;
        var row = new float[inputLength];
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            if (key == 0)
                throw new InvalidOperationException($"Row {cursor.Position} has a missing label (key value 0) in column '{label.Name}'. Remove rows without an identity, or map every identity to a key with MapValueToKey.");
            getFeatures(ref buffer);
            if (buffer.Length != inputLength)
                throw new InvalidOperationException($"Row {cursor.Position} of column '{feature.Name}' has {buffer.Length} values; {inputLength} expected.");
            buffer.CopyTo(row);
            for (int i = 0; i < row.Length; i++)
            {
                if (!float.IsFinite(row[i]))
                    throw new InvalidOperationException($"Row {cursor.Position} of column '{feature.Name}' holds a non-finite value ({row[i]}) at index {i}. Check the image and the pixel scaling (ExtractPixels scaleImage/offsetImage).");
            }
            pixels.AddRange(row);
            labels.Add((int)key - 1);
        }
        if (labels.Count == 0)
            throw new InvalidOperationException("The training data has no rows.");
        return new TrainingData(pixels.ToArray(), labels.ToArray(), inputLength, classCount);
    }
}
