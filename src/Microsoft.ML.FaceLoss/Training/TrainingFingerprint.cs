namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// What a checkpoint must match to be resumed: the network, the head, the data (identities, images
/// and a digest of the rows), the seed and the optimisation. A mismatch is refused with the entries
/// that differ, so that a run never continues silently on other data or with another learning rate.
/// </summary>
internal sealed class TrainingFingerprint(IReadOnlyList<KeyValuePair<string, string>> entries)
{
    public IReadOnlyList<KeyValuePair<string, string>> Entries { get; } = entries;

    /// <summary>The entries of this fingerprint that <paramref name="other"/> lacks or gives another value.</summary>
    public IEnumerable<string> Differences(TrainingFingerprint other)
    {
        var theirs = other.Entries.ToDictionary(e => e.Key, e => e.Value);
        foreach (var (key, value) in Entries)
        {
            if (!theirs.TryGetValue(key, out var their)) yield return $"{key}: this run {value}, the checkpoint none";
            else if (their != value) yield return $"{key}: this run {value}, the checkpoint {their}";
        }
        foreach (var (key, value) in other.Entries.Where(e => Entries.All(mine => mine.Key != e.Key)))
            yield return $"{key}: this run none, the checkpoint {value}";
    }

    /// <summary>One line per entry, <c>name = value</c>.</summary>
    public override string ToString() => string.Join("\n", Entries.Select(e => $"{e.Key} = {e.Value}"));

    public static TrainingFingerprint Parse(string text)
        => new(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(" = ", 2))
            .Select(parts => new KeyValuePair<string, string>(parts[0], parts.Length > 1 ? parts[1] : ""))
            .ToList());
}
