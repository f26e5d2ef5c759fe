using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// A digest of a whole model file: the SHA-256 of every entry of the zip, stored as one more entry by
/// <c>FaceRecognitionCatalog.SaveModel</c> and checked at load (by <c>LoadModel</c> before ML.NET reads
/// anything, and by this library's loaders under a plain <c>mlContext.Model.Load</c>), so that a
/// damaged byte in any entry, ML.NET's own included, is refused instead of loading as garbage.
/// </summary>
internal static class IntegrityManifest
{
    /// <summary>The manifest's entry; ML.NET does not read entries it does not know.</summary>
    public const string EntryName = "FaceLoss/Integrity.sha256";

    private static readonly ConditionalWeakTable<object, object> Verified = new();

    /// <summary>Adds the manifest to the model file at <paramref name="path"/> (replacing an earlier one).</summary>
    public static void Add(string path)
    {
        using var archive = ZipFile.Open(path, ZipArchiveMode.Update);
        archive.GetEntry(EntryName)?.Delete();
        var text = new StringBuilder();
        foreach (var entry in archive.Entries.OrderBy(e => e.FullName, StringComparer.Ordinal))
            text.Append(Digest(entry)).Append("  ").Append(entry.FullName).Append('\n');
        var manifest = archive.CreateEntry(EntryName, CompressionLevel.Optimal);
        using var stream = manifest.Open();
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Checks the model file at <paramref name="path"/> against its manifest, where it has one.</summary>
    /// <exception cref="InvalidDataException">An entry differs from what was saved, is missing, or was added; the message names it.</exception>
    public static void VerifyIfPresent(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        Verify(archive);
    }

    /// <summary>Checks the model a loader reads against its manifest (once per model).</summary>
    public static void VerifyIfPresent(RepositoryReader repository)
    {
        if (Verified.TryGetValue(repository, out _)) return;
        Verify(repository._archive);
        Verified.AddOrUpdate(repository, repository);
    }

    private static void Verify(ZipArchive archive)
    {
        var manifestEntry = archive.GetEntry(EntryName);
        if (manifestEntry is null) return; // saved by mlContext.Model.Save, or before manifests existed
        string manifest;
        using (var reader = new StreamReader(manifestEntry.Open(), Encoding.UTF8)) manifest = reader.ReadToEnd();
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in manifest.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int gap = line.IndexOf("  ", StringComparison.Ordinal);
            if (gap != 64) throw new InvalidDataException($"The model is damaged: its integrity manifest ({EntryName}) is not readable.");
            recorded[line[(gap + 2)..]] = line[..gap];
        }
        foreach (var entry in archive.Entries.Where(e => e.FullName != EntryName))
        {
            if (!recorded.Remove(entry.FullName, out var digest))
                throw new InvalidDataException($"The model is damaged: its entry '{entry.FullName}' was not in it when it was saved.");
            if (!string.Equals(digest, Digest(entry), StringComparison.Ordinal))
                throw new InvalidDataException($"The model is damaged: its entry '{entry.FullName}' differs from what was saved (SHA-256 mismatch).");
        }
        if (recorded.Count > 0)
            throw new InvalidDataException($"The model is damaged: its entry '{recorded.Keys.First()}' is missing.");
    }

    private static string Digest(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
