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
        var rates = new LearningRates(TrainingSettings.From(Options(LearningRateSchedule.Constant, warmup: 1)).Schedule, stepsPerEpoch: 10);
        Assert.Equal(0.01, rates.At(0), 10);
        Assert.Equal(0.05, rates.At(4), 10);
        Assert.Equal(0.1, rates.At(9), 10);
        Assert.Equal(0.1, rates.At(50), 10);
    }

    [Fact]
    public void StepScheduleDecaysAfterEachMilestone()
    {
        var rates = new LearningRates(TrainingSettings.From(Options(LearningRateSchedule.Step)).Schedule, stepsPerEpoch: 10);
        Assert.Equal(0.1, rates.At(39), 10);   // epoch 4
        Assert.Equal(0.01, rates.At(40), 10);  // epoch 5, after milestone 4
        Assert.Equal(0.001, rates.At(80), 10); // epoch 9, after milestone 8
    }

    [Fact]
    public void CosineScheduleFallsFromBaseToMinimum()
    {
        var rates = new LearningRates(TrainingSettings.From(Options(LearningRateSchedule.Cosine)).Schedule, stepsPerEpoch: 10);
        Assert.Equal(0.1, rates.At(0), 10);
        Assert.Equal(0.001 + (0.1 - 0.001) * 0.5, rates.At(50), 10);
        Assert.True(rates.At(99) < 0.0011);
        Assert.True(Enumerable.Range(1, 99).All(s => rates.At(s) <= rates.At(s - 1)));
    }

    [Fact]
    public void FlipReversesEveryRowOfEveryChannel()
    {
        var image = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }; // 2 channels x 2 rows x 3 columns
        Augmentation.Apply(image, 2, 2, 3, new Augmentation.Draw(Flip: true, 0, 0));
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 }, image);
    }

    [Theory]
    [InlineData(1, 1, new float[] { 5, 6, 0, 8, 9, 0, 0, 0, 0 })]
    [InlineData(-1, -1, new float[] { 0, 0, 0, 0, 1, 2, 0, 4, 5 })]
    [InlineData(0, 1, new float[] { 2, 3, 0, 5, 6, 0, 8, 9, 0 })]
    [InlineData(-1, 0, new float[] { 0, 0, 0, 1, 2, 3, 4, 5, 6 })]
    public void CropShiftsInPlaceWithZeroFill(int dy, int dx, float[] expected)
    {
        var image = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }; // 1 x 3 x 3; output (y, x) = input (y + dy, x + dx)
        Augmentation.Apply(image, 1, 3, 3, new Augmentation.Draw(false, dy, dx));
        Assert.Equal(expected, image);
    }

    [Fact]
    public void DrawsDependOnTheSeedOnlyAndStayInRange()
    {
        var draws = Enumerable.Range(0, 200).Select(i => Augmentation.Choose((ulong)i, flip: true, padding: 2)).ToList();
        Assert.Equal(draws, Enumerable.Range(0, 200).Select(i => Augmentation.Choose((ulong)i, flip: true, padding: 2)));
        Assert.All(draws, d => Assert.InRange(d.ShiftY, -2, 2));
        Assert.InRange(draws.Count(d => d.Flip), 70, 130); // about half
        Assert.Equal(5, draws.Select(d => d.ShiftX).Distinct().Count());
    }
}
