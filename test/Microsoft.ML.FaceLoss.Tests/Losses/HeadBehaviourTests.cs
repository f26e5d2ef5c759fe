using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Losses.Mining;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Losses;

/// <summary>What the heads promise beyond their formulas: state, validation, sampling, mining.</summary>
public sealed class HeadBehaviourTests
{
    public static IEnumerable<object[]> Heads() => FaceLossHeads.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Heads))]
    public void StateAndWeightsSurviveSaveAndLoad(string headName)
    {
        using var scope = NewDisposeScope();
        var options = FaceLossHeads.CreateOptions(headName);
        using var head = options.CreateHead(4, 6);
        head.train();
        for (int i = 0; i < 3; i++)
            head.forward(randn(8, 6) * 3, tensor(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 }));
        var stream = new MemoryStream();
        head.save(new BinaryWriter(stream));
        stream.Position = 0;
        using var restored = options.CreateHead(4, 6);
        restored.load(new BinaryReader(stream));
        foreach (var (name, value) in head.State)
            Assert.True(value.eq(restored.State[name]).all().item<bool>(), $"{headName}: state {name}");
        if (head.Weight is not null)
            Assert.True(head.Weight.eq(restored.Weight!).all().item<bool>());
    }

    [Fact]
    public void StatefulHeadsNameTheirStateAsTheSpecDoes()
    {
        var expected = new Dictionary<string, string[]>
        {
            ["SphereFace"] = new[] { "iteration" },
            ["LargeMarginSoftmax"] = new[] { "iteration" },
            ["CurricularFace"] = new[] { "t" },
            ["AdaFace"] = new[] { "batch_mean", "batch_std" },
            ["AdaCos"] = new[] { "scale" },
            ["CenterLoss"] = new[] { "centers" },
        };
        foreach (var name in FaceLossHeads.Names)
        {
            using var head = FaceLossHeads.CreateOptions(name).CreateHead(5, 4);
            Assert.Equal(expected.GetValueOrDefault(name, Array.Empty<string>()).Order(), head.State.Keys.Order());
        }
    }

    [Fact]
    public void AdaCosStartsAtSqrt2TimesLogOfCMinus1()
    {
        using var head = new AdaCosLoss.Options().CreateHead(101, 4);
        Assert.Equal(Math.Sqrt(2) * Math.Log(100), head.State["scale"].item<float>(), 4);
    }

    [Theory]
    [InlineData(64.0, 64.0)]
    [InlineData(double.PositiveInfinity, 80.0)]
    public void AdaCosScaleUpdateIsClampedToMaximumScale(double maximumScale, double atLeast)
    {
        using var scope = NewDisposeScope();
        using var head = new AdaCosLoss.Options { MaximumScale = maximumScale }.CreateHead(3, 2);
        // Every sample lies on a non-target class and 90 degrees from its own: ln(B) ~ s, so s grows by ~sqrt(2) a step.
        head.SetWeight(tensor(new float[] { 1, 0, 1, 0, 0, 1 }).reshape(3, 2));
        head.State["scale"].fill_(60);
        head.train();
        head.forward(tensor(new float[] { 1, 0, 1, 0 }).reshape(2, 2), tensor(new long[] { 2, 2 }));
        float scale = head.State["scale"].item<float>();
        Assert.True(float.IsFinite(scale));
        Assert.True(scale >= atLeast && scale <= maximumScale, $"scale {scale}");
    }

    [Fact]
    public void StateIsOnlyUpdatedInTraining()
    {
        using var scope = NewDisposeScope();
        using var head = new CurricularFaceLoss.Options().CreateHead(3, 4);
        head.eval();
        head.forward(randn(6, 4), tensor(new long[] { 0, 1, 2, 0, 1, 2 }));
        Assert.Equal(0f, head.State["t"].item<float>());
        head.train();
        head.forward(randn(6, 4), tensor(new long[] { 0, 1, 2, 0, 1, 2 }));
        Assert.NotEqual(0f, head.State["t"].item<float>());
    }

    [Fact]
    public void PairAndTripletHeadsHaveNoClassWeightsUnlessJoint()
    {
        using var triplet = new TripletLoss.Options().CreateHead(5, 4);
        Assert.Null(triplet.Weight);
        using var alone = new ContrastiveLoss.Options { Classifier = false }.CreateHead(5, 4);
        Assert.Null(alone.Weight);
        using var joint = new ContrastiveLoss.Options().CreateHead(5, 4);
        Assert.Equal(new long[] { 5, 4 }, joint.Weight!.shape);
        using var subCenter = new SubCenterArcFaceLoss.Options { SubCenters = 3 }.CreateHead(5, 4);
        Assert.Equal(new long[] { 15, 4 }, subCenter.Weight!.shape);
    }

    [Theory]
    [InlineData("CosFace", "margin", 2.5)]
    [InlineData("NormFace", "scale", -1.0)]
    [InlineData("SubCenterArcFace", "subcenters", 0)]
    [InlineData("SphereFace", "margin", 0)]
    [InlineData("CombinedMargin", "m2", 4.0)]
    [InlineData("AdaFace", "h", -0.1)]
    [InlineData("MagFace", "l_m", 3.5)]
    [InlineData("CircleLoss", "margin", 1.0)]
    [InlineData("CenterLoss", "alpha", 1.5)]
    [InlineData("Contrastive", "margin", 0.0)]
    [InlineData("Triplet", "margin", -0.2)]
    [InlineData("ArcFace", "sample_rate", 0.0)]
    public void ValuesOutsideAParametersMeaningFailWhenSet(string headName, string parameter, double value)
    {
        var options = FaceLossHeads.CreateOptions(headName);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.SetParameter(parameter, value));
        Assert.False(string.IsNullOrEmpty(error.ParamName));
    }

    [Fact]
    public void PartialFcTrainsOnlyTheSampledClasses()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        using var head = new ArcFaceLoss.Options { SampleRate = 0.2 }.CreateHead(50, 8);
        head.train();
        var labels = tensor(new long[] { 3, 3, 17, 40 });
        head.forward(randn(4, 8), labels).backward();
        var touched = head.Weight!.grad!.abs().sum(1).gt(0).nonzero().squeeze(1).data<long>().ToArray();
        Assert.Equal(10, touched.Length); // ceil(0.2 * 50) classes, the batch's own among them
        Assert.Contains(3L, touched);
        Assert.Contains(17L, touched);
        Assert.Contains(40L, touched);
    }

    [Fact]
    public void PartialFcSamplingEveryClassEqualsTheFullHead()
    {
        // A sample rate just below 1 runs the sampling (training mode) and keeps all 5 classes: the loss and
        // both gradients must equal those of the head without sampling; the labels are renumbered and back.
        using var scope = NewDisposeScope();
        torch.manual_seed(9);
        var x = randn(6, 8, ScalarType.Float64);
        var y = tensor(new long[] { 4, 1, 2, 3, 4, 0 });
        using var full = new ArcFaceLoss.Options { Scale = 16, Margin = 0.2 }.CreateHead(5, 8, ScalarType.Float64);
        using var sampled = new ArcFaceLoss.Options { Scale = 16, Margin = 0.2, SampleRate = 0.999 }.CreateHead(5, 8, ScalarType.Float64);
        sampled.SetWeight(full.Weight!);
        full.train();
        sampled.train();
        var xFull = x.clone().requires_grad_(true);
        var xSampled = x.clone().requires_grad_(true);
        var lossFull = full.forward(xFull, y);
        var lossSampled = sampled.forward(xSampled, y);
        lossFull.backward();
        lossSampled.backward();
        Assert.Equal(lossFull.item<double>(), lossSampled.item<double>(), 12);
        Assert.True(xFull.grad!.allclose(xSampled.grad!, rtol: 1e-12, atol: 1e-12), "embedding gradients differ");
        Assert.True(full.Weight!.grad!.allclose(sampled.Weight!.grad!, rtol: 1e-12, atol: 1e-12), "class-weight gradients differ");
    }

    [Fact]
    public void PartialFcLossIsTheFullLossOverTheSampledClasses()
    {
        // With 10 of 50 classes sampled, the loss equals the full head's loss on the sampled rows of W alone.
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var options = new CosFaceLoss.Options { Scale = 16, Margin = 0.2, SampleRate = 0.2 };
        using var head = options.CreateHead(50, 8, ScalarType.Float64);
        head.train();
        var x = randn(4, 8, ScalarType.Float64);
        var labels = tensor(new long[] { 3, 3, 17, 40 });
        var lossTensor = head.forward(x, labels);
        lossTensor.backward();
        double loss = lossTensor.item<double>();
        var sampled = head.Weight!.grad!.abs().sum(1).gt(0).nonzero().squeeze(1); // every sampled class gets a gradient
        Assert.Equal(10, sampled.shape[0]);
        using var subset = new CosFaceLoss.Options { Scale = 16, Margin = 0.2 }.CreateHead((int)sampled.shape[0], 8, ScalarType.Float64);
        subset.SetWeight(head.Weight.index_select(0, sampled).detach());
        var position = sampled.data<long>().ToList();
        var relabelled = tensor(labels.data<long>().Select(l => (long)position.IndexOf(l)).ToArray());
        subset.train();
        Assert.Equal(subset.forward(x, relabelled).item<double>(), loss, 10);
    }

    [Fact]
    public void HardMiningPicksTheFarthestPositiveAndNearestNegative()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 0, 1, 3, 10, 11 }, new long[] { 5, 1 });
        var labels = tensor(new long[] { 0, 0, 0, 1, 1 });
        var (a, p, n) = TripletMiner.For(TripletMining.Hard).Mine(PairwiseDistances.Squared(x), labels);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, a.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 2, 0, 4, 3 }, p.data<long>().ToArray());
        Assert.Equal(new long[] { 3, 3, 3, 2, 2 }, n.data<long>().ToArray());
    }

    [Fact]
    public void SemiHardMiningPrefersTheNearestNegativeBeyondThePositive()
    {
        using var scope = NewDisposeScope();
        // Anchor 0 at 0, positive 1 at 2 (d = 4); negatives at 1 (d = 1, closer) and 3 (d = 9) and 5 (d = 25).
        var x = tensor(new float[] { 0, 2, 1, 3, 5 }, new long[] { 5, 1 });
        var labels = tensor(new long[] { 0, 0, 1, 1, 1 });
        var (a, p, n) = TripletMiner.For(TripletMining.SemiHard).Mine(PairwiseDistances.Squared(x), labels);
        int index = Enumerable.Range(0, (int)a.shape[0]).Single(i => a[i].item<long>() == 0 && p[i].item<long>() == 1);
        Assert.Equal(3L, n[index].item<long>());
    }
}
