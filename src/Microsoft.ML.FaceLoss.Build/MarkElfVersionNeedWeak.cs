using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Microsoft.ML.FaceLoss.Build;

/// <summary>
/// MSBuild task: marks one symbol-version requirement of ELF64 little-endian shared libraries weak,
/// so that the dynamic loader accepts a system library that lacks that version.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's libLibTorchSharp.so asks libstdc++ for GLIBCXX_3.4.32 (GCC 13); Debian 12 ships
/// up to 3.4.30. The only symbol bound to that version is GCC 13's marker
/// std::ios_base_library_init(), which no relocation uses, so a weak requirement loads and works.
/// Does nothing where the system library provides the version.
/// </remarks>
public sealed class MarkElfVersionNeedWeak : Task

{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>The shared libraries to patch in place.</summary>
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    /// <summary>The version requirement to make weak, such as GLIBCXX_3.4.32.</summary>
    [Required] public string VersionName { get; set; } = "";
    /// <summary>Candidate paths of the system library, separated by semicolons; the first that exists decides.</summary>
    [Required] public string SystemLibraries { get; set; } = "";

    /// <inheritdoc />
    public override bool Execute()
    {
        string? systemLibrary = null;
        foreach (var candidate in SystemLibraries.Split(';'))
        {
            if (candidate.Length > 0 && File.Exists(candidate)) { systemLibrary = candidate; break; }
        }
        if (systemLibrary == null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++ found; TorchSharp loader fix not needed.");
            return true;
        }
        if (Contains(File.ReadAllBytes(systemLibrary), Encoding.ASCII.GetBytes(VersionName + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, systemLibrary + " provides " + VersionName + "; TorchSharp loader fix not needed.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            try
            {
                int changed = Patch(path);
                if (changed > 0)
                    Log.LogMessage(MessageImportance.Normal, "Marked " + VersionName + " weak in " + path + " (" + systemLibrary + " lacks it).");
            }
            catch (Exception e)
            {
                Log.LogError("Could not apply the TorchSharp loader fix to " + path + ": " + e.Message);
                return false;
            }
        }
        return true;
    }

    private int Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);

            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadString(elf, strtab + nameOffset) == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            flags |= VerFlagWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed++;
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        if (changed > 0)
        {
            // Write next to the file and move it over, so that an interrupted build never leaves half a library.
            string temporary = path + ".faceloss-tmp";
            File.WriteAllBytes(temporary, elf);
            File.Copy(temporary, path, true);
            File.Delete(temporary);
        }
        return changed;
    }

    private static string ReadString(byte[] data, long start)
    {
        long end = start;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, (int)start, (int)(end - start));
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
