using LossComparison;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Samples;

/// <summary>
/// The 2-D pictures of the loss comparison: every head, with its settings of the sample, separates ten
/// classes on held-out points; none collapses onto a line.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class TwoDimensionalFeatureTests
{
    /// <summary>
    /// The sample's picture itself (28x28 faces, 60 training and 20 held-out images a class, LeNet++ of
    /// width 16, 40 epochs: about 18 s a head on two cores). Smaller runs are not a fair judge: at 16x16
    /// and width 8, CurricularFace, sub-center ArcFace and triplet merge classes in some of these
    /// small settings and not in neighbouring ones (39% to 100% measured), so a test on them would
    /// say more about the setting than about the head.
    /// </summary>
    private static readonly ComparisonOptions Picture = new();

    private static readonly Lazy<(LossComparisonApp.LabelledSet Training, LossComparisonApp.LabelledSet HeldOut)> Classes =
        new(() => LossComparisonApp.TenClasses(new MLContext(seed: 1), Picture));

    public static TheoryData<string> Heads => new(FaceLossHeads.Names);

    [Theory]
    [MemberData(nameof(Heads))]
    public void EveryHeadSeparatesTenClassesInTwoDimensions(string head)
    {
        var (training, heldOut) = Classes.Value;
        var panel = LossComparisonApp.TwoDimensionalFeatures(new MLContext(seed: 1), head, training, heldOut, Picture);

        Assert.Null(panel.Failure);
        var geometry = panel.Geometry!;
        Assert.Equal(200, geometry.OwnAngles.Count);
        Assert.True(geometry.NearestCentreAccuracy >= 0.9,
            $"{head}: nearest-class-centre accuracy {geometry.NearestCentreAccuracy:P0} ({geometry.Space}) on held-out points; median angle to own centre {geometry.MedianOwnAngle:F1} deg, to nearest other {geometry.MedianNearestOtherAngle:F1} deg.");
        if (geometry.Space == FeatureSpace.Angular)
            Assert.True(geometry.AngleGap > 0, $"{head}: median own-centre angle {geometry.MedianOwnAngle:F1} deg is not below the median nearest-other angle {geometry.MedianNearestOtherAngle:F1} deg.");
    }

    [Fact]
    public void WithoutBatchNormOnTheFeaturesArcFaceCollapsesAndTheTestWouldSeeIt()
    {
        // The reason for LeNet++ with BatchNorm: the same run on the plain LeNet++ puts ArcFace's classes on a line.
        var (training, heldOut) = Classes.Value;
        var settings = FeatureSettings.For("ArcFace");
        using var model = LossComparisonApp.TrainTwoDimensional(new MLContext(seed: 1), training, settings, Picture, FaceBackbone.LeNetPlusPlus);
        var geometry = LossComparisonApp.Measure(model, training, heldOut, settings.Space);
        Assert.True(geometry.NearestCentreAccuracy < 0.9, $"ArcFace on the plain LeNet++: {geometry.NearestCentreAccuracy:P0}");
    }

    [Fact]
    public void GeometryMeasuresAnglesToTrainingCentres()
    {
        static float[] At(double degrees, double length = 2) => new[] { (float)(length * Math.Cos(degrees * Math.PI / 180)), (float)(length * Math.Sin(degrees * Math.PI / 180)) };
        // Class 0 around 0 degrees, class 1 around 90, class 2 around 180 (lengths differ: angles ignore them).
        var training = new[] { At(-10), At(10, 5), At(80), At(100), At(170), At(190, 1) };
        var labels = new[] { 0, 0, 1, 1, 2, 2 };
        var heldOut = new[] { At(5), At(60), At(200) };
        var geometry = FeatureGeometry.Measure(training, labels, heldOut, new[] { 0, 0, 2 }, FeatureSpace.Angular);

        Assert.Equal(new[] { 5.0, 60.0, 20.0 }, geometry.OwnAngles.Select(a => Math.Round(a, 3)));
        Assert.Equal(new[] { 85.0, 30.0, 110.0 }, geometry.NearestOtherAngles.Select(a => Math.Round(a, 3)));
        Assert.Equal(2 / 3.0, geometry.NearestCentreAccuracy, 10); // the point at 60 degrees is nearer class 1
        Assert.Equal(85.0 - 20.0, Math.Round(geometry.AngleGap, 3));
    }

    [Fact]
    public void PlanarGeometryFindsTheNearestMeanByDistance()
    {
        // Two classes on one ray: by angle they cannot be told apart, by distance they can.
        var training = new[] { new[] { 1f, 0f }, new[] { 1.2f, 0f }, new[] { 5f, 0f }, new[] { 5.2f, 0f } };
        var labels = new[] { 0, 0, 1, 1 };
        var heldOut = new[] { new[] { 1.1f, 0.1f }, new[] { 4.9f, -0.1f } };
        Assert.Equal(1.0, FeatureGeometry.Measure(training, labels, heldOut, new[] { 0, 1 }, FeatureSpace.Planar).NearestCentreAccuracy);
        Assert.Equal(0.5, FeatureGeometry.Measure(training, labels, heldOut, new[] { 0, 1 }, FeatureSpace.Angular).NearestCentreAccuracy);
    }
}
