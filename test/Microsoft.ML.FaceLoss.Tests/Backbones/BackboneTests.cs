using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Backbones;

/// <summary>Each backbone's output shape, and its parameter count against the published architecture.</summary>
public sealed class BackboneTests
{
    private static long ParameterCount(nn.Module<Tensor, Tensor> module) => module.parameters().Sum(p => p.numel());

    private static nn.Module<Tensor, Tensor> Make(FaceBackbone backbone, int channels, int size, int embedding, int width = 0)
        => BackboneCatalog.Create(backbone, channels, size, size, embedding, width, 0, 0, null);

    [Theory]
    [InlineData(FaceBackbone.IResNet50, 43_600_000)] // insightface r50 at 112 x 112, 512-D: 43.6 M
    [InlineData(FaceBackbone.IResNet34, 34_100_000)] // r34: 34.1 M
    [InlineData(FaceBackbone.IResNet18, 24_000_000)] // r18: 24.0 M
    public void IResNetParameterCountsMatchInsightface(FaceBackbone backbone, long published)
    {
        using var network = Make(backbone, 3, 112, 512);
        long count = ParameterCount(network);
        Assert.InRange(count, published * 0.99, published * 1.01);
    }

    [Fact]
    public void MobileFaceNetHasAboutOneMillionParameters()
    {
        using var network = Make(FaceBackbone.MobileFaceNet, 3, 112, 128);
        Assert.InRange(ParameterCount(network), 950_000, 1_250_000); // the paper: 0.99 M (plus BN and PReLU details)
    }

    [Theory]
    [InlineData(FaceBackbone.SmallCnn, 1, 32, 16)]
    [InlineData(FaceBackbone.LeNetPlusPlus, 1, 28, 2)]
    [InlineData(FaceBackbone.LeNetPlusPlusBatchNorm, 1, 28, 2)]
    [InlineData(FaceBackbone.IResNet18, 3, 64, 32)]
    [InlineData(FaceBackbone.IResNet18, 1, 112, 32)]
    [InlineData(FaceBackbone.MobileFaceNet, 3, 112, 32)]
    [InlineData(FaceBackbone.MobileFaceNet, 1, 64, 32)]
    public void OutputIsOneEmbeddingPerImage(FaceBackbone backbone, int channels, int size, int embedding)
    {
        using var scope = NewDisposeScope();
        using var network = Make(backbone, channels, size, embedding, width: backbone == FaceBackbone.IResNet18 ? 16 : 0);
        network.eval();
        using var noGrad = no_grad();
        var output = network.forward(randn(2, channels, size, size));
        Assert.Equal(new long[] { 2, embedding }, output.shape);
    }

    [Fact]
    public void IResNetStemStrideFollowsTheInputSize()
    {
        // At 64 x 64 the stem has stride 2 (stages run at 32/16/8/4): the neck's FC sees 8w x 2 x 2.
        using var small = Make(FaceBackbone.IResNet18, 3, 64, 128, width: 8);
        var fc = small.named_parameters().Single(p => p.name.EndsWith("fc.weight")).parameter;
        Assert.Equal(new long[] { 128, 64 * 2 * 2 }, fc.shape);
        // At 112 x 112 stride 1 (56/28/14/7): 8w x 7 x 7.
        using var large = Make(FaceBackbone.IResNet18, 3, 112, 128, width: 8);
        var fcLarge = large.named_parameters().Single(p => p.name.EndsWith("fc.weight")).parameter;
        Assert.Equal(new long[] { 128, 64 * 7 * 7 }, fcLarge.shape);
    }

    [Fact]
    public void LeNetPlusPlusIsTheCenterLossPaperNetwork()
    {
        using var network = Make(FaceBackbone.LeNetPlusPlus, 1, 28, 2);
        var shapes = network.named_parameters().Where(p => p.name.EndsWith("weight") && p.parameter.dim() == 4).Select(p => p.parameter.shape[0]).ToArray();
        Assert.Equal(new long[] { 32, 32, 64, 64, 128, 128 }, shapes);
        var fc = network.named_parameters().Single(p => p.name == "fc.weight").parameter;
        Assert.Equal(new long[] { 2, 128 * 3 * 3 }, fc.shape);
    }

    [Fact]
    public void LeNetPlusPlusBatchNormAddsOnlyABatchNormOnTheFeatures()
    {
        using var plain = Make(FaceBackbone.LeNetPlusPlus, 1, 28, 2);
        using var normalized = Make(FaceBackbone.LeNetPlusPlusBatchNorm, 1, 28, 2);
        var plainNames = plain.named_parameters().Select(p => p.name).ToArray();
        var added = normalized.named_parameters().Select(p => p.name).Except(plainNames).Order().ToArray();
        Assert.Equal(new[] { "features.bias", "features.weight" }, added);
        Assert.Empty(plainNames.Except(normalized.named_parameters().Select(p => p.name)));

        // In training mode each feature of a batch has mean 0 (the affine part starts as 1 and 0): the features are centred.
        using var scope = NewDisposeScope();
        normalized.train();
        plain.train();
        var input = randn(16, 1, 28, 28);
        Assert.True(normalized.forward(input).mean(new long[] { 0 }).abs().max().item<float>() < 1e-5f);
        Assert.True(plain.forward(input).mean(new long[] { 0 }).abs().max().item<float>() > 1e-4f);
    }
}
