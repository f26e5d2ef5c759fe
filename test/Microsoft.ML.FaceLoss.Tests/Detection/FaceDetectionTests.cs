using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Detection;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Tests.Detection;

/// <summary>face-api's detector and landmark net on LFW images, and the DetectFaces/AlignFaces transforms through mlContext.</summary>
[Collection(TorchCollection.Name)]
public sealed class FaceDetectionTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-align-" + Guid.NewGuid().ToString("N"));

    public FaceDetectionTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Lfw(string person, int number) => Path.Combine(TestData.LfwImages, person, $"{person}_{number:D4}.jpg");

    private static readonly string[] Faces = { Lfw("Aaron_Eckhart", 1), Lfw("George_W_Bush", 1), Lfw("George_W_Bush", 2), Lfw("Tony_Blair", 1) };

    /// <summary>A grey 250 x 250 image with no face, saved as PNG.</summary>
    private string BlankImage()
    {
        var pixels = Enumerable.Repeat((byte)128, 250 * 250 * 4).ToArray();
        using var image = MLImage.CreateFromPixels(250, 250, MLPixelFormat.Bgra32, pixels);
        string path = Path.Combine(_folder, "blank.png");
        image.Save(path);
        return path;
    }

    [FaceDetectionFact]
    public void DetectsTheFaceAtTheCentreOfLfwImages()
    {
        using var detector = FaceDetector.Load(TestData.ModelsRoot);
        foreach (var path in Faces)
        {
            using var image = FaceImageLoadingTransformer.LoadImage(path);
            var boxes = detector.Detect(image);

            Assert.NotEmpty(boxes);
            Assert.True(boxes.Zip(boxes.Skip(1)).All(p => p.First.Score >= p.Second.Score), "most confident first");
            // LFW's deep-funneled images centre their subject's face, about 110 pixels wide.
            var centre = boxes.OrderBy(b => Math.Abs(b.Left + b.Width / 2 - 125) + Math.Abs(b.Top + b.Height / 2 - 125)).First();
            Assert.InRange(centre.Left + centre.Width / 2, 100, 150);
            Assert.InRange(centre.Top + centre.Height / 2, 100, 160);
            Assert.InRange(centre.Width, 70, 170);
            Assert.InRange(centre.Score, 0.5f, 1f);
        }
    }

    [FaceDetectionFact]
    public void FindsNoFaceInABlankImage()
    {
        using var detector = FaceDetector.Load(TestData.ModelsRoot);
        using var image = FaceImageLoadingTransformer.LoadImage(BlankImage());
        Assert.Empty(detector.Detect(image));
    }

    [FaceDetectionFact]
    public void LandmarksLieWhereAFaceHasThem()
    {
        using var detector = FaceDetector.Load(TestData.ModelsRoot);
        using var landmarker = FaceLandmarker.Load(TestData.ModelsRoot);
        foreach (var path in Faces)
        {
            using var image = FaceImageLoadingTransformer.LoadImage(path);
            var box = detector.Detect(image)[0];
            var points = landmarker.Locate(image, box);
            Assert.Equal(68, points.Length);
            var five = FaceLandmarker.FivePoints(points);

            Assert.True(five[0].X < five[2].X && five[2].X < five[1].X, $"{path}: the nose between the eyes");
            Assert.True(five[3].X < five[4].X, $"{path}: mouth corners left to right");
            Assert.True(Math.Max(five[0].Y, five[1].Y) < five[2].Y && five[2].Y < Math.Min(five[3].Y, five[4].Y), $"{path}: eyes, nose, mouth from top to bottom");
            float eyes = five[1].X - five[0].X;
            Assert.InRange(eyes, 0.25f * box.Width, 0.6f * box.Width);
            Assert.All(points, p => Assert.True(p.X > box.Left - 0.2f * box.Width && p.X < box.Right + 0.2f * box.Width, $"{path}: a landmark outside its box"));
        }
    }

    [FaceDetectionFact]
    public void AnAlignedFaceHasItsPointsOnTheTemplate()
    {
        // Align, then find the landmarks again in the aligned image: they land on the template's points.
        using var detector = FaceDetector.Load(TestData.ModelsRoot);
        using var landmarker = FaceLandmarker.Load(TestData.ModelsRoot);
        foreach (var template in new[] { AlignmentTemplate.Dlib150, AlignmentTemplate.Insightface112 })
            foreach (var path in Faces.Take(2))
            {
                using var image = FaceImageLoadingTransformer.LoadImage(path);
                var five = FaceLandmarker.FivePoints(landmarker.Locate(image, detector.Detect(image)[0]));
                using var aligned = FaceAligner.Align(image, five, template);
                Assert.Equal(template.Size, aligned.Width);
                Assert.Equal(template.Size, aligned.Height);

                var again = FaceLandmarker.FivePoints(landmarker.Locate(aligned, new FaceBox(0, 0, template.Size, template.Size, 1)));
                for (int i = 0; i < 5; i++)
                {
                    double distance = Math.Sqrt(Math.Pow(again[i].X - 0.5 - template.Points[i].X, 2) + Math.Pow(again[i].Y - 0.5 - template.Points[i].Y, 2));
                    Assert.True(distance < 0.06 * template.Size, $"{template}, {Path.GetFileName(path)}: point {i} is {distance:F1} px from the template's.");
                }
            }
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class AlignedRow
    {
        public bool FaceFound { get; set; }

        public float[] FacePoints { get; set; } = Array.Empty<float>();

        public float[] FaceBoxes { get; set; } = Array.Empty<float>();

        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private static IEstimator<ITransformer> AlignedPipeline(MLContext ml)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.FaceRecognition().Transforms.DetectFaces(modelFolder: TestData.ModelsRoot))
            .Append(ml.FaceRecognition().Transforms.AlignFaces(new AlignFacesEstimator.Options
            {
                Template = AlignmentTemplate.Dlib150, Selection = FaceSelection.NearestCenter, ModelFolder = TestData.ModelsRoot,
            }))
            .Append(ml.Transforms.ExtractPixels("Features", "AlignedImage", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f))
            .Append(ml.FaceRecognition().PretrainedEmbedding(modelFolder: TestData.ModelsRoot));

    [FaceDetectionFact]
    public void APipelineMarksTheRowWithoutAFaceAndLogsTheCount()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var paths = new[] { Faces[1], Faces[2], BlankImage(), Faces[0] };
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));

        var model = AlignedPipeline(ml).Fit(data);
        using var disposal = (IDisposable)model;
        var rows = ml.Data.CreateEnumerable<AlignedRow>(model.Transform(data), reuseRowObject: false).ToList();

        Assert.Equal(new[] { true, true, false, true }, rows.Select(r => r.FaceFound));
        Assert.Empty(rows[2].FaceBoxes);
        Assert.All(rows[2].FacePoints, v => Assert.True(float.IsNaN(v)));
        Assert.All(rows[2].Embedding, v => Assert.True(float.IsNaN(v)));
        Assert.All(new[] { 0, 1, 3 }, i => Assert.Equal(1, Math.Sqrt(rows[i].Embedding.Sum(v => (double)v * v)), 4));
        double same = rows[0].Embedding.Zip(rows[1].Embedding).Sum(p => (double)p.First * p.Second);
        double other = rows[0].Embedding.Zip(rows[3].Embedding).Sum(p => (double)p.First * p.Second);
        Assert.True(same > other + 0.05, $"Bush/Bush {same:F3}, Bush/Eckhart {other:F3}");
        Assert.Contains(messages, m => m.Contains("no face to align in 1 of 4 rows"));
        Assert.Contains(messages, m => m.Contains("found no face in 1 of 4 images"));
    }

    [FaceDetectionFact]
    public void AFreshProcessLoadsDetectionAlignmentAndTheBackboneWithoutTheModelFolder()
    {
        var ml = new MLContext(seed: 1);
        var paths = new[] { Faces[1], BlankImage(), Faces[0] };
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
        var model = AlignedPipeline(ml).Fit(data);
        using var disposal = (IDisposable)model;
        var expected = ml.Data.CreateEnumerable<AlignedRow>(model.Transform(data), reuseRowObject: false).ToList();
        string file = Path.Combine(_folder, "aligned.zip");
        ml.FaceRecognition().SaveModel(model, data.Schema, file);

        // The weights travel inside the file: the child process is pointed at a model folder that does not exist.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["FACELOSS_MODELS"] = Path.Combine(_folder, "no-such-folder");
        foreach (var arg in new[] { "exec", typeof(Program).Assembly.Location, "embed", file }.Concat(paths)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd(), errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(paths.Length, lines.Length);
        for (int i = 0; i < paths.Length; i++)
        {
            var values = lines[i].Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(128, values.Length);
            Assert.All(expected[i].Embedding.Zip(values), p => Assert.True(
                float.IsNaN(p.First) ? float.IsNaN(p.Second) : Math.Abs(p.First - p.Second) < 1e-6, $"row {i}: {p.First} saved, {p.Second} loaded"));
        }
        Assert.True(float.IsNaN(expected[1].Embedding[0]), "the blank image's embedding is missing (NaN)");
    }

    [FaceDetectionFact]
    public void AMissingModelFolderNamesItAndWhereToGetTheFiles()
    {
        string missing = Path.Combine(_folder, "nothing-here");
        var error = Assert.Throws<FileNotFoundException>(() => FaceDetector.Load(missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("@vladmandic/face-api", error.Message);
        Assert.Contains("face_landmark_68_model", Assert.Throws<FileNotFoundException>(() => FaceLandmarker.Load(missing)).Message);
    }

    [FaceDetectionFact]
    public void AlignFacesWithoutDetectFacesSaysToPutItFirst()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new PathRow { ImagePath = Faces[0] } });
        var images = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath").Fit(data).Transform(data);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.FaceRecognition().Transforms.AlignFaces(modelFolder: TestData.ModelsRoot).Fit(images));
        Assert.Contains("'FaceBoxes'", error.Message);
        Assert.Contains("DetectFaces", error.Message);
    }
}
