using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>One image of an identity, as <see cref="ImageFolderReader"/> lists it.</summary>
public sealed class FaceImageRow
{
    /// <summary>The full path of the image file.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>The identity: the name of the image's sub-folder.</summary>
    public string Identity { get; set; } = "";
}

/// <summary>Lists a folder that holds one sub-folder of images per identity.</summary>
internal static class ImageFolderReader
{
    public static List<FaceImageRow> Read(string root, ImageFolderOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MinimumImagesPerIdentity, 1, nameof(options.MinimumImagesPerIdentity));
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The image folder '{root}' does not exist. It must hold one sub-folder of images per identity.");
        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        var rows = new List<FaceImageRow>();
        foreach (var folder in Directory.GetDirectories(root).OrderBy(d => Path.GetFileName(d), NaturalComparer.Instance))
        {
            string identity = Path.GetFileName(folder);
            if (options.IdentityFilter is not null && !options.IdentityFilter(identity)) continue;
            var images = Directory.GetFiles(folder)
                .Where(f => extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => Path.GetFileName(f), NaturalComparer.Instance)
                .ToList();
            if (images.Count < options.MinimumImagesPerIdentity) continue;
            rows.AddRange(images.Select(path => new FaceImageRow { ImagePath = Path.GetFullPath(path), Identity = identity }));
        }
        if (rows.Count == 0)
            throw new InvalidOperationException($"The image folder '{root}' holds no identity with at least {options.MinimumImagesPerIdentity} image(s) of the extensions {string.Join(", ", options.Extensions)}.");
        return rows;
    }

    /// <summary>Orders "s2" before "s10" and "2.pgm" before "10.pgm".</summary>
    private sealed class NaturalComparer : IComparer<string>
    {
        public static readonly NaturalComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null) return string.CompareOrdinal(x, y);
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (char.IsDigit(x[i]) && char.IsDigit(y[j]))
                {
                    int si = i, sj = j;
                    while (i < x.Length && char.IsDigit(x[i])) i++;
                    while (j < y.Length && char.IsDigit(y[j])) j++;
                    var a = x.AsSpan(si, i - si).TrimStart('0');
                    var b = y.AsSpan(sj, j - sj).TrimStart('0');
                    if (a.Length != b.Length) return a.Length.CompareTo(b.Length);
                    int digits = a.SequenceCompareTo(b);
                    if (digits != 0) return digits;
                }
                else
                {
                    int c = x[i].CompareTo(y[j]);
                    if (c != 0) return c;
                    i++;
                    j++;
                }
            }
            return (x.Length - i).CompareTo(y.Length - j);
        }
    }
}
