using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Detection;

namespace Microsoft.ML.FaceLoss.Tests.Detection;

/// <summary>The geometry of alignment: the similarity fit, the templates, the resampling, box suppression.</summary>
public sealed class AlignmentGeometryTests
{
    private static readonly ImagePoint[] Face =
    {
        new(30, 40), new(70, 41), new(50, 62), new(34, 80), new(66, 81),
    };

    private static ImagePoint[] Map(SimilarityTransform t, IEnumerable<ImagePoint> points)
        => points.Select(p => t.Apply(p.X, p.Y)).Select(q => new ImagePoint((float)q.X, (float)q.Y)).ToArray();

    private static double SquaredError(SimilarityTransform t, IReadOnlyList<ImagePoint> source, IReadOnlyList<ImagePoint> target)
        => Map(t, source).Zip(target).Sum(p => Math.Pow(p.First.X - p.Second.X, 2) + Math.Pow(p.First.Y - p.Second.Y, 2));

    [Fact]
    public void EstimateRecoversAKnownSimilarity()
    {
        double scale = 1.7, angle = 20 * Math.PI / 180;
        var known = new SimilarityTransform(scale * Math.Cos(angle), scale * Math.Sin(angle), 12.5, -7.25);

        var fitted = SimilarityTransform.Estimate(Face, Map(known, Face));

        Assert.Equal(scale, fitted.Scale, 4);
        Assert.Equal(angle, fitted.Rotation, 5);
        Assert.Equal(known.Tx, fitted.Tx, 3);
        Assert.Equal(known.Ty, fitted.Ty, 3);
    }

    [Fact]
    public void EstimateIsTheLeastSquaresSolutionForNoisyPoints()
    {
        var random = new Random(3);
        var target = Face.Select(p => new ImagePoint(p.X * 1.2f + 5 + (float)random.NextDouble() * 4 - 2, p.Y * 1.2f - 3 + (float)random.NextDouble() * 4 - 2)).ToArray();
        var fitted = SimilarityTransform.Estimate(Face, target);
        double best = SquaredError(fitted, Face, target);

        // Every small change of any parameter fits worse.
        foreach (var delta in new[] { 1e-3, -1e-3 })
        {
            Assert.True(SquaredError(fitted with { A = fitted.A + delta }, Face, target) > best);
            Assert.True(SquaredError(fitted with { B = fitted.B + delta }, Face, target) > best);
            Assert.True(SquaredError(fitted with { Tx = fitted.Tx + delta * 100 }, Face, target) > best);
            Assert.True(SquaredError(fitted with { Ty = fitted.Ty + delta * 100 }, Face, target) > best);
        }
    }

    [Fact]
    public void EstimateNeverMirrorsTheFace()
    {
        // A mirror image of the points: the best similarity keeps the orientation (positive determinant A^2 + B^2),
        // so the fit is imperfect instead of swapping left and right.
        var mirrored = Face.Select(p => new ImagePoint(100 - p.X, p.Y)).ToArray();
        var fitted = SimilarityTransform.Estimate(Face, mirrored);
        Assert.True(SquaredError(fitted, Face, mirrored) > 100);
    }

    [Fact]
    public void InverseUndoesTheTransform()
    {
        var t = new SimilarityTransform(0.8, -0.3, 4, 9);
        var (x, y) = t.Apply(17, -5);
        var (bx, by) = t.Inverse().Apply(x, y);
        Assert.Equal(17, bx, 9);
        Assert.Equal(-5, by, 9);
    }

    [Fact]
    public void EstimateRefusesCoincidentOrMismatchedPoints()
    {
        var same = Enumerable.Repeat(new ImagePoint(5, 5), 5).ToArray();
        Assert.Contains("coincide", Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate(same, Face)).Message);
        Assert.Contains("two point pairs", Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate(Face.Take(3).ToArray(), Face)).Message);
        var withNaN = Face.ToArray();
        withNaN[2] = new ImagePoint(float.NaN, 1);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate(withNaN, Face)).Message);
    }

    [Fact]
    public void TheTwoTemplatesDescribeOneFaceUpToASimilarity()
    {
        // insightface's template and the one derived from dlib's mean face come from different data;
        // mapped onto each other they agree to a few pixels (a typo in either would not).
        var fit = SimilarityTransform.Estimate(AlignmentTemplate.Dlib150.Points, AlignmentTemplate.Insightface112.Points);
        double rms = Math.Sqrt(SquaredError(fit, AlignmentTemplate.Dlib150.Points, AlignmentTemplate.Insightface112.Points) / 5);
        Assert.True(rms < 3, $"RMS distance {rms:F2} px");
        Assert.InRange(fit.Rotation * 180 / Math.PI, -3, 3);
    }

    [Fact]
    public void TemplatesAreUprightAndSymmetric()
    {
        foreach (var template in new[] { AlignmentTemplate.Insightface112, AlignmentTemplate.Dlib150 })
        {
            var p = template.Points;
            float middle = template.Size / 2f;
            Assert.True(p[0].X < middle && p[1].X > middle, $"{template}: eyes on either side");
            Assert.InRange(p[0].Y - p[1].Y, -1, 1);
            Assert.InRange(p[2].X, middle - 2, middle + 2);
            Assert.True(p[0].Y < p[2].Y && p[2].Y < p[3].Y, $"{template}: eyes above the nose above the mouth");
            Assert.All(p, q => Assert.True(q.X > 0 && q.Y > 0 && q.X < template.Size && q.Y < template.Size));
            Assert.Same(template, AlignmentTemplate.FromName(template.Name));
        }
    }

    [Fact]
    public void FivePointsAreTheEyeCentresNoseTipAndMouthCorners()
    {
        var landmarks = Enumerable.Range(0, 68).Select(i => new ImagePoint(i, 1000 + i)).ToArray();
        var five = FaceLandmarker.FivePoints(landmarks);
        Assert.Equal(new ImagePoint(38.5f, 1038.5f), five[0]);
        Assert.Equal(new ImagePoint(44.5f, 1044.5f), five[1]);
        Assert.Equal(landmarks[30], five[2]);
        Assert.Equal(landmarks[48], five[3]);
        Assert.Equal(landmarks[54], five[4]);
        Assert.Throws<ArgumentException>(() => FaceLandmarker.FivePoints(landmarks.Take(5).ToArray()));
    }

    [Fact]
    public void WarpingByWholePixelsShiftsTheImageAndFillsBlackOutside()
    {
        const int size = 8;
        var pixels = new byte[size * size * 4];
        for (int i = 0; i < size * size; i++) (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2], pixels[4 * i + 3]) = ((byte)i, (byte)(2 * i), (byte)(3 * i), 255);
        using var image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Bgra32, pixels);

        // Output (u, v) samples the source at (u + 2, v + 1).
        using var shifted = ImageWarp.Warp(image, new SimilarityTransform(1, 0, 2, 1), size);

        var output = shifted.Pixels;
        for (int v = 0; v < size; v++)
            for (int u = 0; u < size; u++)
            {
                int o = (v * size + u) * 4;
                bool inside = u + 2 < size && v + 1 < size;
                int source = (v + 1) * size + u + 2;
                Assert.Equal(inside ? (byte)source : (byte)0, output[o]);
                Assert.Equal(inside ? (byte)(3 * source) : (byte)0, output[o + 2]);
                Assert.Equal(255, output[o + 3]);
            }
    }

    [Fact]
    public void SuppressionKeepsTheMostConfidentOfOverlappingBoxes()
    {
        var boxes = new List<FaceBox>
        {
            new(10, 10, 50, 50, 0.7f), new(12, 11, 50, 50, 0.9f), new(200, 200, 40, 40, 0.6f), new(14, 14, 50, 50, 0.8f),
        };
        var kept = FaceDetector.Suppress(boxes, 0.4f);
        Assert.Equal(new[] { 0.9f, 0.6f }, kept.Select(b => b.Score));
        Assert.Equal(0, new FaceBox(0, 0, 10, 10, 1).IntersectionOverUnion(new FaceBox(20, 20, 10, 10, 1)));
        Assert.Equal(1f / 3, new FaceBox(0, 0, 10, 10, 1).IntersectionOverUnion(new FaceBox(5, 0, 10, 10, 1)), 5);
    }
}
