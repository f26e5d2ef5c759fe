using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Training;

[Collection(TorchCollection.Name)]
public sealed class TrainerValidationTests
{
    private readonly MLContext _ml = new(seed: 1);

    [Fact]
    public void OptionsOutOfRangeFailWhenTheTrainerIsMade()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options { BatchSize = 1 }));
        Assert.Contains("BatchSize", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options { LearningRate = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options { DropoutRate = 1 }));
    }

    [Fact]
    public void MissingFeatureColumnIsNamed()
    {
        var data = SyntheticImages.Load(_ml);
        var options = SyntheticImages.TinyOptions();
        options.FeatureColumnName = "Pixels";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticImages.Pipeline(_ml, options).Fit(data));
        Assert.Contains("'Pixels'", error.Message);
    }

    [Fact]
    public void LabelsThatAreNotKeysAreRefusedWithTheCure()
    {
        var data = SyntheticImages.Load(_ml);
        var options = SyntheticImages.TinyOptions();
        options.LabelColumnName = "Identity";
        var trainer = _ml.FaceRecognition().Trainers.Embedding(options);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        Assert.Contains("'Identity'", error.Message);
        Assert.Contains("MapValueToKey", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(MLNetInternals.ShapeOf(data.Schema)));
    }

    [Fact]
    public void NonFinitePixelsAreRefusedWithTheRow()
    {
        var rows = SyntheticImages.Rows(3, 4);
        rows[5].Features[7] = float.NaN;
        var error = Assert.Throws<InvalidOperationException>(() =>
            SyntheticImages.Pipeline(_ml, SyntheticImages.TinyOptions()).Fit(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Row 5", error.Message);
        Assert.Contains("non-finite", error.Message);
    }

    [Fact]
    public void ImageShapeOptionsMustMatchTheVectorSize()
    {
        var options = SyntheticImages.TinyOptions();
        (options.ImageChannels, options.ImageHeight, options.ImageWidth) = (3, 8, 8);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticImages.Pipeline(_ml, options).Fit(SyntheticImages.Load(_ml)));
        Assert.Contains("3 x 8 x 8", error.Message);
    }

    [Fact]
    public void TransformRefusesAFeatureVectorOfTheWrongSize()
    {
        var model = SyntheticImages.Pipeline(_ml, SyntheticImages.TinyOptions(epochs: 1)).Fit(SyntheticImages.Load(_ml));
        var wrong = _ml.Data.LoadFromEnumerable(new[] { new WrongSize() });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(wrong));
        Assert.Contains("'Features'", error.Message);
        Assert.Contains("64", error.Message);
    }

    [Fact]
    public void EstimatorSchemaAddsAVectorEmbeddingColumn()
    {
        var data = SyntheticImages.Load(_ml);
        var shape = SyntheticImages.Pipeline(_ml, SyntheticImages.TinyOptions()).GetOutputSchema(MLNetInternals.ShapeOf(data.Schema));
        var column = Assert.Single(shape, c => c.Name == "Embedding");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.Equal(NumberDataViewType.Single, column.ItemType);
    }

    private sealed class WrongSize
    {
        [VectorType(10)]
        public float[] Features { get; set; } = new float[10];
    }
}
