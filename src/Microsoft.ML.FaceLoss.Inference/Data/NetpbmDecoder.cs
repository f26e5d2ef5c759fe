using System.Text;
using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Decodes Netpbm images (PGM and PPM, binary P5/P6 and plain P2/P3, 8 or 16 bits per sample), the
/// format of the ORL and Yale face sets, which SkiaSharp cannot read, into a BGRA <see cref="MLImage"/>.
/// </summary>
public static class NetpbmDecoder
{
    /// <summary>Whether the file's extension is one of .pgm, .ppm or .pnm.</summary>
    public static bool IsNetpbmPath(string path)
    {
        string extension = Path.GetExtension(path);
        return extension.Equals(".pgm", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".ppm", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".pnm", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads a Netpbm file.</summary>
    /// <exception cref="InvalidDataException">The file is not a PGM/PPM image, or it is truncated; the message names the file.</exception>
    public static MLImage Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Decode(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Cannot read the image '{path}': {e.Message}", e);
        }
    }

    /// <summary>Decodes the bytes of a Netpbm file.</summary>
    public static MLImage Decode(ReadOnlySpan<byte> data)
    {
        int position = 0;
        string magic = Token(data, ref position);
        int channels = magic switch
        {
            "P2" or "P5" => 1,
            "P3" or "P6" => 3,
            _ => throw new InvalidDataException($"'{magic}' is not a PGM or PPM signature (P2, P3, P5 or P6)."),
        };
        bool binary = magic is "P5" or "P6";
        int width = Number(data, ref position, "width");
        int height = Number(data, ref position, "height");
        int maxValue = Number(data, ref position, "maximum value");
        if (width < 1 || height < 1 || maxValue < 1 || maxValue > 65535)
            throw new InvalidDataException($"invalid header (width {width}, height {height}, maximum value {maxValue}).");
        position++; // the single whitespace after the header

        // Sizes in 64 bits and checked against the data before anything is allocated: a header may claim any size.
        int bytesPerSample = maxValue > 255 ? 2 : 1;
        long samples = (long)width * height * channels;
        long needed = binary ? samples * bytesPerSample : samples * 2; // a plain sample takes a digit and a separator at least
        long present = Math.Max(0, data.Length - position);
        if (needed > present)
            throw new InvalidDataException($"the header claims {width} x {height} pixels ({samples} samples), which need {needed} bytes, but {present} follow: the file is truncated or its header is wrong.");
        var bgra = new byte[checked(width * height * 4)];
        for (int pixel = 0; pixel < width * height; pixel++)
        {
            for (int c = 0; c < channels; c++)
            {
                int value;
                if (!binary) value = Number(data, ref position, "sample");
                else if (bytesPerSample == 1) value = data[position++];
                else { value = (data[position] << 8) | data[position + 1]; position += 2; }
                if (value < 0 || value > maxValue)
                    throw new InvalidDataException($"sample {value} of pixel {pixel} lies outside 0 to the maximum value {maxValue}.");
                byte scaled = (byte)Math.Min(255, (value * 255 + maxValue / 2) / maxValue);
                if (channels == 1)
                {
                    bgra[pixel * 4] = bgra[pixel * 4 + 1] = bgra[pixel * 4 + 2] = scaled;
                }
                else
                {
                    bgra[pixel * 4 + 2 - c] = scaled; // RGB in the file, BGR in memory
                }
            }
            bgra[pixel * 4 + 3] = 255;
        }
        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, bgra);
    }

    private static int Number(ReadOnlySpan<byte> data, ref int position, string what)
    {
        string token = Token(data, ref position);
        return int.TryParse(token, out int value) ? value : throw new InvalidDataException($"the {what} '{token}' is not a number (or the file is truncated).");
    }

    private static string Token(ReadOnlySpan<byte> data, ref int position)
    {
        while (position < data.Length)
        {
            if (data[position] == (byte)'#')
            {
                while (position < data.Length && data[position] != (byte)'\n') position++;
            }
            else if (char.IsWhiteSpace((char)data[position])) position++;
            else break;
        }
        int start = position;
        while (position < data.Length && !char.IsWhiteSpace((char)data[position]) && data[position] != (byte)'#') position++;
        return Encoding.ASCII.GetString(data.Slice(start, position - start));
    }
}
