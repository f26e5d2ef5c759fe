namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Copies chosen rows of a row-major block of pixels into a batch: the one gather every part of training uses.</summary>
internal static class RowGather
{
    /// <summary>Copies rows <paramref name="rows"/> (each <paramref name="rowLength"/> values) of <paramref name="source"/> one after another into <paramref name="destination"/>.</summary>
    public static void Copy(float[] source, int rowLength, ReadOnlySpan<int> rows, Span<float> destination)
    {
        if (destination.Length < rows.Length * rowLength)
            throw new ArgumentException($"The destination holds {destination.Length} values; {rows.Length} rows of {rowLength} need {rows.Length * rowLength}.", nameof(destination));
        for (int i = 0; i < rows.Length; i++)
            source.AsSpan(checked(rows[i] * rowLength), rowLength).CopyTo(destination.Slice(i * rowLength, rowLength));
    }

    /// <summary>The rows <paramref name="rows"/> of <paramref name="source"/> in a new array.</summary>
    public static float[] Copy(float[] source, int rowLength, ReadOnlySpan<int> rows)
    {
        var destination = new float[(long)rows.Length * rowLength];
        Copy(source, rowLength, rows, destination);
        return destination;
    }
}
