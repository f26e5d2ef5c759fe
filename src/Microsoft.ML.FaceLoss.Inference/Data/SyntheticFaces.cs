using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// A generator of synthetic faces, so that training, evaluation and the samples run without any
/// download. Each identity has a face shape, skin and hair tone, hair style, eye spacing, size and
/// colour, brows, nose, mouth, and perhaps glasses or a beard; each image of it a pose (roll, shift,
/// scale), an expression (smile, open mouth, blink, raised brows), lighting from one side, a
/// background and noise. Everything is seeded: identity i looks the same in every run.
/// </summary>
public static class SyntheticFaces
{
    /// <summary>The name of identity <paramref name="identity"/>, for example <c>person0007</c>.</summary>
    public static string IdentityName(int identity) => $"person{identity:D4}";

    /// <summary>Draws image <paramref name="image"/> of identity <paramref name="identity"/> as a BGRA image.</summary>
    public static MLImage Render(int identity, int image, SyntheticFaceOptions options)
    {
        byte[] pixels = RenderPixels(identity, image, options);
        return MLImage.CreateFromPixels(options.ImageSize, options.ImageSize, MLPixelFormat.Bgra32, pixels);
    }

    /// <summary>
    /// The faces as a data view with the columns <c>Image</c> (a known-size image for ML.NET's image
    /// transforms), <c>Identity</c> (text) and <c>ImageIndex</c>; images are drawn when read.
    /// </summary>
    public static IDataView Load(MLContext mlContext, SyntheticFaceOptions options)
    {
        Validate(options);
        var rows = new List<Row>();
        for (int id = options.FirstIdentity; id < options.FirstIdentity + options.Identities; id++)
            for (int i = 0; i < options.ImagesPerIdentity; i++)
                rows.Add(new Row { Identity = IdentityName(id), IdentityIndex = id, ImageIndex = i });
        var view = mlContext.Data.LoadFromEnumerable(rows);
        return new DataViews.AppendedColumnsDataView(view, new ImageSource(options, view.Schema));
    }

    /// <summary>
    /// Writes the faces as PNG files, one sub-folder per identity (<c>root/person0007/03.png</c>), the
    /// layout <c>LoadImageFolder</c> reads. Returns the number of files written.
    /// </summary>
    public static int WriteFolder(string root, SyntheticFaceOptions options)
    {
        Validate(options);
        int written = 0;
        for (int id = options.FirstIdentity; id < options.FirstIdentity + options.Identities; id++)
        {
            string folder = Path.Combine(root, IdentityName(id));
            Directory.CreateDirectory(folder);
            for (int i = 0; i < options.ImagesPerIdentity; i++)
            {
                var info = new SKImageInfo(options.ImageSize, options.ImageSize, SKColorType.Bgra8888, SKAlphaType.Premul);
                using var bitmap = new SKBitmap(info);
                System.Runtime.InteropServices.Marshal.Copy(RenderPixels(id, i, options), 0, bitmap.GetPixels(), info.BytesSize);
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                using var file = File.Create(Path.Combine(folder, $"{i:D2}.png"));
                data.SaveTo(file);
                written++;
            }
        }
        return written;
    }


    private static void Validate(SyntheticFaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Identities, 1, nameof(options.Identities));
        ArgumentOutOfRangeException.ThrowIfNegative(options.FirstIdentity, nameof(options.FirstIdentity));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ImagesPerIdentity, 1, nameof(options.ImagesPerIdentity));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ImageSize, 16, nameof(options.ImageSize));
        if (!(options.Variation >= 0) || !double.IsFinite(options.Variation))
            throw new ArgumentOutOfRangeException(nameof(options.Variation), options.Variation, "Variation must be a finite number at or above 0.");
    }

    /// <summary>A row of the synthetic data view, before its image is drawn.</summary>
    private sealed class Row
    {
        public string Identity { get; set; } = "";

        public int IdentityIndex { get; set; }

        public int ImageIndex { get; set; }
    }

    /// <summary>Draws the <c>Image</c> column of a row from its identity and image index, when it is read.</summary>
    private sealed class ImageSource : DataViews.IAppendedColumnsSource
    {
        private readonly SyntheticFaceOptions _options;
        private readonly DataViewSchema.Column _identity, _image;

        public ImageSource(SyntheticFaceOptions options, DataViewSchema schema)
        {
            _options = options;
            _identity = schema[nameof(Row.IdentityIndex)];
            _image = schema[nameof(Row.ImageIndex)];
            Columns = new[] { new DataViewSchema.DetachedColumn("Image", new ImageDataViewType(options.ImageSize, options.ImageSize)) };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { _identity, _image };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, DataViews.AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
            => MakeRowGetters(cursor.Input);

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var getIdentity = input.GetGetter<int>(_identity);
            var getImage = input.GetGetter<int>(_image);
            int identity = 0, image = 0;
            ValueGetter<MLImage> getter = (ref MLImage value) =>
            {
                value?.Dispose();
                getIdentity(ref identity);
                getImage(ref image);
                value = Render(identity, image, _options);
            };
            return _ => getter;
        }
    }

    private static byte[] RenderPixels(int identity, int image, SyntheticFaceOptions options)
    {
        var face = FaceTraits.Of(options.Seed, identity);
        var shot = ShotTraits.Of(options.Seed, identity, image, options.Variation);
        int size = options.ImageSize;
        var info = new SKImageInfo(size, size, SKColorType.Bgra8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(shot.Background);
            float s = size / 56f; // the face is designed on a 56 x 56 canvas
            canvas.Translate(size / 2f + shot.ShiftX * size, size / 2f + shot.ShiftY * size);
            canvas.RotateDegrees(shot.RollDegrees);
            canvas.Scale(s * shot.Scale);
            Draw(canvas, face, shot);
            canvas.ResetMatrix();
            // Light from one side: a horizontal gradient, brighter on one side, darker on the other.
            using var light = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(size, 0),
                    new[] { new SKColor(255, 255, 255, (byte)(shot.LightLeft * 255)), new SKColor(0, 0, 0, (byte)(shot.LightRight * 255)) },
                    SKShaderTileMode.Clamp),
            };
            canvas.DrawRect(0, 0, size, size, light);
        }
        byte[] pixels = bitmap.Bytes;
        var noise = new Random(unchecked(options.Seed * 7_919 + identity * 104_729 + image * 1_299_709));
        for (int p = 0; p < pixels.Length; p += 4)
        {
            for (int c = 0; c < 3; c++)
            {
                double value = (pixels[p + c] - 128) * shot.Contrast + 128 + shot.Brightness + Gaussian(noise) * shot.Noise;
                pixels[p + c] = (byte)Math.Clamp(Math.Round(value), 0, 255);
            }
            pixels[p + 3] = 255;
        }
        return pixels;
    }

    private static void Draw(SKCanvas canvas, FaceTraits f, ShotTraits e)
    {
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var stroke = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };

        // Hair behind the head, ears, the face.
        fill.Color = f.Hair;
        canvas.DrawOval(0, -4 - f.HairVolume, f.FaceWidth + 3 + f.HairVolume, f.FaceHeight + 2, fill);
        fill.Color = f.Skin.WithAlpha(255);
        canvas.DrawOval(-f.FaceWidth, 0, 3, 5, fill);
        canvas.DrawOval(f.FaceWidth, 0, 3, 5, fill);
        using (var jaw = new SKPath())
        {
            jaw.AddOval(new SKRect(-f.FaceWidth, -f.FaceHeight, f.FaceWidth, f.FaceHeight * f.JawLength));
            canvas.DrawPath(jaw, fill);
        }
        // Fringe: hair over the forehead, down to the hairline.
        fill.Color = f.Hair;
        using (var fringe = new SKPath())
        {
            fringe.MoveTo(-f.FaceWidth - 1, -2);
            fringe.QuadTo(-f.FaceWidth, -f.FaceHeight - 4, 0, -f.FaceHeight - 3);
            fringe.QuadTo(f.FaceWidth, -f.FaceHeight - 4, f.FaceWidth + 1, -2);
            fringe.QuadTo(f.FringeSide * 6, -f.Hairline + 4, -f.FaceWidth - 1, -2);
            canvas.DrawPath(fringe, fill);
        }
        if (f.Beard)
        {
            fill.Color = f.Hair.WithAlpha(220);
            using var beard = new SKPath();
            beard.MoveTo(-f.FaceWidth + 1, 5);
            beard.QuadTo(0, f.FaceHeight * f.JawLength + 5, f.FaceWidth - 1, 5);
            beard.QuadTo(0, 13, -f.FaceWidth + 1, 5);
            canvas.DrawPath(beard, fill);
        }

        // Eyes: white, iris, pupil; a blink closes them to a line.
        float eyeY = -2 + f.EyeHeight;
        foreach (int side in new[] { -1, 1 })
        {
            float x = side * f.EyeSpacing;
            float open = e.EyeOpen;
            fill.Color = SKColors.White;
            canvas.DrawOval(x, eyeY, f.EyeSize * 1.5f, f.EyeSize * open, fill);
            if (open > 0.3f)
            {
                fill.Color = f.Iris;
                canvas.DrawCircle(x + e.Gaze, eyeY, f.EyeSize * 0.75f * Math.Min(1, open), fill);
                fill.Color = SKColors.Black;
                canvas.DrawCircle(x + e.Gaze, eyeY, f.EyeSize * 0.35f * Math.Min(1, open), fill);
            }
            // Brows.
            stroke.Color = f.Hair;
            stroke.StrokeWidth = f.BrowThickness;
            float browY = eyeY - f.EyeSize - 2.5f - e.BrowRaise;
            canvas.DrawLine(x - 3.5f, browY + side * f.BrowTilt, x + 3.5f, browY - side * f.BrowTilt, stroke);
        }

        // Nose.
        stroke.Color = f.Skin.WithAlpha(255).Darker(0.65f);
        stroke.StrokeWidth = 1.2f;
        using (var nose = new SKPath())
        {
            nose.MoveTo(0, eyeY + 1);
            nose.LineTo(-f.NoseWidth, eyeY + f.NoseLength);
            nose.LineTo(f.NoseWidth * 0.6f, eyeY + f.NoseLength + 1);
            canvas.DrawPath(nose, stroke);
        }

        // Mouth: a curve whose bend is the smile; an open mouth is filled.
        float mouthY = eyeY + f.NoseLength + 5 + f.MouthDrop;
        using (var mouth = new SKPath())
        {
            mouth.MoveTo(-f.MouthWidth, mouthY);
            mouth.QuadTo(0, mouthY + e.Smile * 4, f.MouthWidth, mouthY);
            if (e.MouthOpen > 0.2f)
            {
                mouth.QuadTo(0, mouthY + e.Smile * 4 + e.MouthOpen * 4, -f.MouthWidth, mouthY);
                fill.Color = new SKColor(90, 20, 30);
                canvas.DrawPath(mouth, fill);
            }
            stroke.Color = f.Lips;
            stroke.StrokeWidth = 1.6f;
            canvas.DrawPath(mouth, stroke);
        }

        if (f.Glasses)
        {
            stroke.Color = f.GlassesColor;
            stroke.StrokeWidth = 1.3f;
            foreach (int side in new[] { -1, 1 })
                canvas.DrawRoundRect(side * f.EyeSpacing - f.EyeSize * 2.2f, eyeY - f.EyeSize * 1.8f, f.EyeSize * 4.4f, f.EyeSize * 3.4f, 2, 2, stroke);
            canvas.DrawLine(-f.EyeSpacing + f.EyeSize * 2.2f, eyeY, f.EyeSpacing - f.EyeSize * 2.2f, eyeY, stroke);
        }
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static SKColor Dark(float red, float green, float blue) => new((byte)red, (byte)(red * green), (byte)(red * blue));

    private static SKColor Darker(this SKColor color, float factor)
        => new((byte)(color.Red * factor), (byte)(color.Green * factor), (byte)(color.Blue * factor), color.Alpha);

    /// <summary>What makes one person look like that person.</summary>
    private sealed record FaceTraits(float FaceWidth, float FaceHeight, float JawLength, SKColor Skin, SKColor Hair, float HairVolume,
        float Hairline, float FringeSide, float EyeSpacing, float EyeSize, float EyeHeight, SKColor Iris, float BrowThickness, float BrowTilt,
        float NoseLength, float NoseWidth, float MouthWidth, float MouthDrop, SKColor Lips, bool Glasses, SKColor GlassesColor, bool Beard)
    {
        public static FaceTraits Of(int seed, int identity)
        {
            var r = new Random(unchecked(seed * 1_000_003 + identity * 8_191));
            float U(float low, float high) => low + (float)r.NextDouble() * (high - low);
            float tone = U(0.25f, 1f);
            var skin = new SKColor((byte)(120 + 125 * tone), (byte)(80 + 115 * tone), (byte)(55 + 100 * tone));
            float hairTone = U(0, 1);
            var hair = hairTone < 0.15f ? new SKColor((byte)U(180, 230), (byte)U(140, 190), (byte)U(60, 110)) // fair
                : hairTone < 0.25f ? new SKColor((byte)U(140, 200), (byte)U(50, 90), (byte)U(20, 40))          // red
                : hairTone < 0.35f ? new SKColor((byte)U(150, 210), (byte)U(150, 210), (byte)U(150, 210))      // grey
                : Dark(U(15, 110), U(0.55f, 0.8f), U(0.3f, 0.55f));                                           // dark brown to black
            var iris = r.Next(3) switch
            {
                0 => new SKColor((byte)U(60, 110), (byte)U(35, 60), (byte)U(15, 30)),
                1 => new SKColor((byte)U(40, 90), (byte)U(90, 140), (byte)U(150, 210)),
                _ => new SKColor((byte)U(60, 110), (byte)U(100, 140), (byte)U(50, 80)),
            };
            return new FaceTraits(
                FaceWidth: U(13, 18), FaceHeight: U(17, 22), JawLength: U(0.9f, 1.15f), Skin: skin, Hair: hair, HairVolume: U(0, 5),
                Hairline: U(8, 16), FringeSide: U(-1, 1), EyeSpacing: U(5, 8.5f), EyeSize: U(1.6f, 2.8f), EyeHeight: U(-2, 2), Iris: iris,
                BrowThickness: U(0.8f, 2.6f), BrowTilt: U(-1.2f, 1.2f), NoseLength: U(4, 8), NoseWidth: U(1.2f, 3), MouthWidth: U(3.5f, 7),
                MouthDrop: U(-1, 2), Lips: new SKColor((byte)U(120, 200), (byte)U(40, 90), (byte)U(50, 100)),
                Glasses: r.NextDouble() < 0.25, GlassesColor: new SKColor((byte)U(0, 90), (byte)U(0, 60), (byte)U(0, 60)), Beard: r.NextDouble() < 0.2);
        }
    }

    /// <summary>What changes from one image of a person to the next.</summary>
    private sealed record ShotTraits(float RollDegrees, float ShiftX, float ShiftY, float Scale, float Smile, float MouthOpen, float EyeOpen,
        float Gaze, float BrowRaise, float LightLeft, float LightRight, double Brightness, double Contrast, double Noise, SKColor Background)
    {
        public static ShotTraits Of(int seed, int identity, int image, double variation)
        {
            var r = new Random(unchecked(seed * 31 + identity * 1_000_033 + image * 7_793 + 17));
            float v = (float)variation;
            float U(float low, float high) => (low + (float)r.NextDouble() * (high - low)) * v;
            bool blink = r.NextDouble() < 0.1 * variation;
            byte grey = (byte)Math.Clamp(128 + U(-90, 90), 0, 255);
            return new ShotTraits(
                RollDegrees: U(-12, 12), ShiftX: U(-0.07f, 0.07f), ShiftY: U(-0.07f, 0.07f), Scale: 1 + U(-0.1f, 0.1f),
                Smile: U(-0.4f, 1f), MouthOpen: Math.Max(0, U(-0.6f, 1f)), EyeOpen: blink ? 0.15f : 1 + U(-0.25f, 0.15f),
                Gaze: U(-0.6f, 0.6f), BrowRaise: U(-0.5f, 1.5f), LightLeft: Math.Max(0, U(-0.1f, 0.35f)), LightRight: Math.Max(0, U(-0.1f, 0.35f)),
                Brightness: U(-25, 25), Contrast: 1 + U(-0.25f, 0.15f), Noise: U(3, 12),
                Background: new SKColor((byte)Math.Clamp(grey + U(-30, 30), 0, 255), (byte)Math.Clamp(grey + U(-30, 30), 0, 255), (byte)Math.Clamp(grey + U(-30, 30), 0, 255)));
        }
    }
}
