using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// Saves model files atomically, with a digest of every entry (<see cref="IntegrityManifest"/>), and
/// turns load failures into errors that name the file.
/// </summary>
internal static class ModelFile
{
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (File.Exists(folder))
            throw new IOException($"Cannot save the model to '{full}': '{folder}' is a file, not a folder.");
        if (Directory.Exists(full))
            throw new IOException($"Cannot save the model to '{full}': that is a folder; give a file name such as model.zip.");
        Directory.CreateDirectory(folder);
        string temporary = Temporary.For(full);
        Temporary.RemoveAbandoned(full);
        // Write beside the target, add the digest, then move it over: an interrupted or failed save never destroys the previous model.
        try
        {
            mlContext.Model.Save(model, inputSchema, temporary);
            IntegrityManifest.Add(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The model file '{path}' does not exist.", path);
        try
        {
            IntegrityManifest.VerifyIfPresent(path);
            return mlContext.Model.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"The model file '{path}' could not be loaded; it is truncated, corrupt, or not an ML.NET model: {Innermost(e).Message}", e);
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    /// <summary>
    /// The temporary files of atomic saves: <c>name.&lt;process id&gt;.tmp</c> beside the target. A save
    /// removes those that a process which no longer runs left behind (killed during a save), so that
    /// at most the files of running saves remain.
    /// </summary>
    internal static class Temporary
    {
        public static string For(string target) => $"{target}.{Environment.ProcessId}.tmp";

        public static void RemoveAbandoned(string target)
        {
            string folder = Path.GetDirectoryName(target)!, name = Path.GetFileName(target);
            var pattern = new Regex("^" + Regex.Escape(name) + @"\.(?<owner>[0-9]+|[0-9a-f]{32})\.tmp$");
            foreach (var file in Directory.EnumerateFiles(folder, name + ".*.tmp"))
            {
                var match = pattern.Match(Path.GetFileName(file));
                if (!match.Success) continue;
                string owner = match.Groups["owner"].Value;
                // Earlier versions named them by a GUID; a process id is abandoned when no such process runs.
                bool abandoned = owner.Length == 32 ? File.GetLastWriteTimeUtc(file) < DateTime.UtcNow.AddMinutes(-10) : !IsRunning(int.Parse(owner));
                if (abandoned)
                {
                    try { File.Delete(file); }
                    catch (IOException) { } // in use after all
                }
            }
        }

        private static bool IsRunning(int processId)
        {
            if (processId == Environment.ProcessId) return false; // our own leftover: this save replaces it
            try
            {
                using var process = Process.GetProcessById(processId);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }
}
