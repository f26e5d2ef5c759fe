using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Training;

public sealed class ScheduleAndAugmentationTests
{
    private static FaceEmbeddingTrainer.Options Options(LearningRateSchedule schedule, double warmup = 0) => new()
    {
        LearningRate = 0.1, Epochs = 10, LearningRateSchedule = schedule, WarmupEpochs = warmup,
        LearningRateMilestones = new[] { 4, 8 }, LearningRateDecay = 0.1, MinimumLearningRate = 0.001,
    };

    [Fact]
    public void WarmupRisesLinearlyToTheBaseRate()
    {
        var rates = new LearningRates(Options(LearningRateSchedule.Constant, warmup: 1), stepsPerEpoch: 10);
        Assert.Equal(0.01, rates.At(0), 10);
        Assert.Equal(0.05, rates.At(4), 10);
        Assert.Equal(0.1, rates.At(9), 10);
        Assert.Equal(0.1, rates.At(50), 10);
    }

    [Fact]
    public void StepScheduleDecaysAfterEachMilestone()
    {
        var rates = new LearningRates(Options(LearningRateSchedule.Step), stepsPerEpoch: 10);
        Assert.Equal(0.1, rates.At(39), 10);   // epoch 4
        Assert.Equal(0.01, rates.At(40), 10);  // epoch 5, after milestone 4
        Assert.Equal(0.001, rates.At(80), 10); // epoch 9, after milestone 8
    }

    [Fact]
    public void CosineScheduleFallsFromBaseToMinimum()
    {
        var rates = new LearningRates(Options(LearningRateSchedule.Cosine), stepsPerEpoch: 10);
        Assert.Equal(0.1, rates.At(0), 10);
        Assert.Equal(0.001 + (0.1 - 0.001) * 0.5, rates.At(50), 10);
        Assert.True(rates.At(99) < 0.0011);
        Assert.True(Enumerable.Range(1, 99).All(s => rates.At(s) <= rates.At(s - 1)));
    }

    [Fact]
    public void FlipReversesEveryRowOfEveryChannel()
    {
        var image = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }; // 2 channels x 2 rows x 3 columns
        var random = new FixedRandom(1);
        Augmentation.Apply(image, 2, 2, 3, random, flip: true, padding: 0);
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 }, image);
    }

    [Fact]
    public void CropPaddingShiftsWithZeroFill()
    {
        var image = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }; // 1 x 3 x 3
        // Next(-1, 2) answers 1 twice: shift by one row and one column.
        Augmentation.Apply(image, 1, 3, 3, new FixedRandom(1), flip: false, padding: 1);
        Assert.Equal(new float[] { 5, 6, 0, 8, 9, 0, 0, 0, 0 }, image);
    }

    private sealed class FixedRandom(int value) : Random
    {
        public override int Next(int maxValue) => Math.Min(value, maxValue - 1);

        public override int Next(int minValue, int maxValue) => Math.Clamp(value, minValue, maxValue - 1);
    }
}
