namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Recognises the image formats SkiaSharp reads by their first bytes, and files cut short, so that a
/// bad file is refused with what is wrong instead of a decoder's "invalid path" or a half-grey image.
/// </summary>
internal static class ImageFormat
{
    /// <summary>What is wrong with the bytes of an image file, or null when they look like a whole JPEG, PNG, GIF, BMP or WebP image.</summary>
    public static string? Check(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return "the file is empty (0 bytes).";
        if (bytes.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }))
        {
            // A JPEG ends with the marker FF D9 (some writers add a few bytes after it).
            var tail = bytes[Math.Max(0, bytes.Length - 1024)..];
            return tail.IndexOf(new byte[] { 0xFF, 0xD9 }) >= 0 ? null
                : $"the JPEG is truncated: its {bytes.Length} bytes end without the end-of-image marker (FF D9).";
        }
        if (bytes.StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }))
        {
            var tail = bytes[Math.Max(0, bytes.Length - 64)..];
            return tail.IndexOf("IEND"u8) >= 0 ? null : $"the PNG is truncated: its {bytes.Length} bytes end without the IEND chunk.";
        }
        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8) || bytes.StartsWith("BM"u8)) return null;
        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)) return null;
        string start = Convert.ToHexString(bytes[..Math.Min(8, bytes.Length)]);
        return $"it is not a JPEG, PNG, GIF, BMP or WebP image (it starts with bytes {start}); PGM and PPM files need the extension .pgm, .ppm or .pnm.";
    }
}
