using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Tests.Losses;

public sealed class LossOptionsTests
{
    [Fact]
    public void DefaultsFollowTheSpecification()
    {
        var arcFace = new ArcFaceLoss.Options();
        Assert.Equal((64.0, 0.5, false), (arcFace.Scale, arcFace.Margin, arcFace.EasyMargin));
        Assert.False(new SoftmaxLoss.Options().Bias);
    }

    [Theory]
    [InlineData(-1.0, 0.5)]
    [InlineData(0.0, 0.5)]
    [InlineData(64.0, -0.1)]
    [InlineData(64.0, Math.PI)]
    [InlineData(double.NaN, 0.5)]
    public void ArcFaceParametersOutsideTheirMeaningFailWhenSet(double scale, double margin)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ArcFaceLoss.Options { Scale = scale, Margin = margin });

    [Fact]
    public void ParametersRoundTripBySnakeCaseName()
    {
        var options = FaceLossHeads.CreateOptions("arcface");
        options.SetParameter("scale", 32);
        options.SetParameter("easy_margin", true);
        Assert.Equal(new[] { "scale", "margin", "easy_margin", "sample_rate" }, options.GetParameters().Select(p => p.Key));
        var arcFace = Assert.IsType<ArcFaceLoss.Options>(options);
        Assert.Equal((32.0, true), (arcFace.Scale, arcFace.EasyMargin));
        Assert.Equal("ArcFace(scale=32, margin=0.5, easy_margin=true, sample_rate=1)", options.ToString());
    }

    [Fact]
    public void UnknownNamesAreRefusedWithTheKnownOnes()
    {
        var head = Assert.Throws<ArgumentException>(() => FaceLossHeads.CreateOptions("NoSuchFace"));
        Assert.Contains("ArcFace", head.Message);
        var parameter = Assert.Throws<ArgumentException>(() => new ArcFaceLoss.Options().SetParameter("gamma", 1.0));
        Assert.Contains("easy_margin", parameter.Message);
    }

    [Fact]
    public void TheSmallDataPresetLowersScaleAndMarginOfMarginHeadsOnly()
    {
        var arcFace = Assert.IsType<ArcFaceLoss.Options>(FaceLossHeads.CreateSmallDataOptions("ArcFace"));
        Assert.Equal((16.0, 0.2), (arcFace.Scale, arcFace.Margin));
        var magFace = Assert.IsType<MagFaceLoss.Options>(FaceLossHeads.CreateSmallDataOptions("MagFace"));
        Assert.Equal((16.0, 0.1, 0.3), (magFace.Scale, magFace.LowerMargin, magFace.UpperMargin));
        Assert.Equal(32.0, Assert.IsType<CircleLoss.Options>(FaceLossHeads.CreateSmallDataOptions("CircleLoss")).Gamma);
        Assert.Equal(16.0, Assert.IsType<AdaCosLoss.Options>(FaceLossHeads.CreateSmallDataOptions("AdaCos")).MaximumScale);
        Assert.Equal(FaceLossHeads.CreateOptions("Softmax").ToString(), FaceLossHeads.CreateSmallDataOptions("Softmax").ToString());
        Assert.Equal(FaceLossHeads.CreateOptions("Triplet").ToString(), FaceLossHeads.CreateSmallDataOptions("Triplet").ToString());
    }

    [Fact]
    public void AHeadKeepsACopyOfItsOptions()
    {
        var options = new ArcFaceLoss.Options { Scale = 30 };
        using var head = options.CreateHead(4, 8);
        options.Scale = 10;
        Assert.Equal(30, ((ArcFaceLoss.Options)head.HeadOptions).Scale);
    }

    [Fact]
    public void ClassifierHeadsOwnAClassWeightMatrix()
    {
        using var head = Assert.IsAssignableFrom<ClassifierHead>(new SoftmaxLoss.Options().CreateHead(5, 8));
        Assert.Equal(new long[] { 5, 8 }, head.Weight.shape);
        Assert.Single(head.parameters());
        Assert.Empty(head.State);
    }
}
