using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>Fit never returns a useless model and refuses bad input with the row, column or value and the cure.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrainingGuardTests
{
    private readonly MLContext _ml = new(seed: 1);

    [Theory]
    [InlineData("CosFace", 1e4)]
    [InlineData("ArcFace", 1e5)]
    [InlineData("Softmax", 1e4)]
    [InlineData("Triplet", 1e5)]
    public void AHugeLearningRateNeverReturnsAModel(string head, double learningRate)
    {
        var options = SyntheticImages.TinyOptions(FaceLossHeads.CreateSmallDataOptions(head), epochs: 2);
        options.LearningRate = learningRate;
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(SyntheticImages.Load(_ml)));
        Assert.Matches("diverged|collapsed", error.Message);
        Assert.Contains("LearningRate", error.Message);
    }

    [Fact]
    public void ANetworkThatMapsEverythingToZeroIsRefused()
    {
        // Finite losses all along (the logits are all 0) and every embedding empty: the collapse Fit must catch.
        var options = SyntheticImages.TinyOptions(new CosFaceLoss.Options { Scale = 8 }, epochs: 1);
        options.CustomBackbone = new ZeroBackbone();
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(SyntheticImages.Load(_ml)));
        Assert.Contains("not unit vectors", error.Message);
        Assert.Contains("No model was returned", error.Message);
    }

    [Fact]
    public void OneTrainingRowIsRefused()
    {
        var rows = SyntheticImages.Rows(2, 1); // two identities for the key type, one row to train on
        var keyed = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(_ml.Data.LoadFromEnumerable(rows));
        var one = keyed.Transform(_ml.Data.LoadFromEnumerable(rows.Take(1)));
        var error = Assert.Throws<InvalidOperationException>(() => _ml.FaceRecognition().Trainers.Embedding(SyntheticImages.TinyOptions()).Fit(one));
        Assert.Contains("at least 2 rows", error.Message);
    }

    [Theory]
    [InlineData(true, "ArcFace")]
    [InlineData(true, "Triplet")]
    [InlineData(false, "Softmax")]
    public void AKeyBeyondTheKeyCountIsRefusedWithTheRow(bool inMemory, string head)
    {
        var rows = SyntheticImages.Rows(3, 4).Select((r, i) => new RawKeyRow { Features = r.Features, RawLabel = i == 7 ? 5u : (uint)(i / 4 + 1) }).ToList();
        var options = SyntheticImages.TinyOptions(FaceLossHeads.CreateOptions(head));
        options.InMemory = inMemory;
        options.ImagesPerIdentity = 2;
        var data = new KeyedView(_ml.Data.LoadFromEnumerable(rows), keyCount: 3);
        var error = Assert.Throws<InvalidOperationException>(() => _ml.FaceRecognition().Trainers.Embedding(options).Fit(data));
        Assert.Contains("Row 7 of label column 'Label' holds key value 5, beyond the 3 identities", error.Message);
        Assert.Contains("MapValueToKey", error.Message);
    }

    [Fact]
    public void AMissingKeySaysWhyAKeyCanBeMissing()
    {
        // ML.NET itself reads a key beyond the key type's count as 0, "missing".
        var rows = SyntheticImages.Rows(3, 4).Select((r, i) => new KeyedRow { Features = r.Features, Label = i == 7 ? 5u : (uint)(i / 4 + 1) }).ToList();
        var error = Assert.Throws<InvalidOperationException>(() => _ml.FaceRecognition().Trainers.Embedding(SyntheticImages.TinyOptions()).Fit(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Row 7 has no label (key value 0) in column 'Label'", error.Message);
        Assert.Contains("outside the key type's 3 values", error.Message);
    }

    [Fact]
    public void AHeadRefusesALabelBeyondItsIdentities()
    {
        using var head = new ArcFaceLoss.Options().CreateHead(3, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => head.forward(randn(2, 4), tensor(new long[] { 0, 4 })));
        Assert.Contains("made for 3 identities", error.Message);
        Assert.Contains("got label 4", error.Message);
    }

    [Fact]
    public void AValidationFractionThatLeavesTooFewIdentitiesSaysWhatIsNeeded()
    {
        var options = SyntheticImages.TinyOptions();
        options.ValidationIdentityFraction = 0.3;
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(SyntheticImages.Load(_ml, identities: 3)));
        Assert.Contains("needs at least 4 identities", error.Message);
        Assert.Contains("the data has 3", error.Message);
    }

    [Fact]
    public void AStreamedBadRowComesAsItsOwnErrorNotAnAggregate()
    {
        var rows = SyntheticImages.Rows(3, 4);
        rows[5].Features[7] = float.NaN;
        var options = SyntheticImages.TinyOptions();
        options.InMemory = false;
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Row 5 of column 'Features' holds a non-finite value", error.Message);
    }

    [Theory]
    [InlineData(-127.5f, true)]
    [InlineData(127.5f, false)]
    public void PixelsFarFromCentredGetAWarningWithTheCure(float offset, bool warned)
    {
        using var tiny = new TinyImageModel();
        var messages = new List<string>();
        var ml = new MLContext(seed: 1);
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Identity")
            .Append(ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath"))
            .Append(ml.Transforms.ResizeImages("Image", 16, 16))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1 / 127.5f, offsetImage: offset))
            .Append(ml.FaceRecognition().Trainers.Embedding(SyntheticImages.TinyOptions(epochs: 1)));
        pipeline.Fit(tiny.Images).LastTransformer.Dispose();
        Assert.Equal(warned, messages.Any(m => m.Contains("far from centred") && m.Contains("offsetImage: 127.5f")));
    }

    private sealed class RawKeyRow
    {
        [VectorType(SyntheticImages.Channels, SyntheticImages.Size, SyntheticImages.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public uint RawLabel { get; set; }
    }

    /// <summary>
    /// A data view whose key column "Label" passes its raw values through unchecked, as a hand-made data
    /// view may: the way a key beyond the key count reaches a trainer.
    /// </summary>
    private sealed class KeyedView : IDataView
    {
        private readonly IDataView _inner;

        public KeyedView(IDataView inner, int keyCount)
        {
            _inner = inner;
            var builder = new DataViewSchema.Builder();
            builder.AddColumn("Features", inner.Schema["Features"].Type);
            builder.AddColumn("Label", new KeyDataViewType(typeof(uint), keyCount));
            Schema = builder.ToSchema();
        }

        public bool CanShuffle => false;

        public DataViewSchema Schema { get; }

        public long? GetRowCount() => _inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
            => new Cursor(this, _inner.GetRowCursor(_inner.Schema));

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => new[] { GetRowCursor(columnsNeeded, rand) };

        private sealed class Cursor(KeyedView view, DataViewRowCursor inner) : DataViewRowCursor
        {
            public override DataViewSchema Schema => view.Schema;

            public override long Position => inner.Position;

            public override long Batch => inner.Batch;

            public override bool MoveNext() => inner.MoveNext();

            public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

            public override bool IsColumnActive(DataViewSchema.Column column) => true;

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
                => inner.GetGetter<TValue>(inner.Schema[column.Name == "Label" ? "RawLabel" : column.Name]);

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }

    private sealed class KeyedRow
    {
        [VectorType(SyntheticImages.Channels, SyntheticImages.Size, SyntheticImages.Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        [KeyType(3)]
        public uint Label { get; set; }
    }
}

/// <summary>A backbone whose embeddings are all zero: flatten, then a linear layer times 0.</summary>
public sealed class ZeroBackbone : BackboneFactory
{
    public override nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int embeddingSize)
        => new Zero(channels * height * width, embeddingSize);

    private sealed class Zero : nn.Module<Tensor, Tensor>
    {
        private readonly global::TorchSharp.Modules.Linear _linear;

        public Zero(int inputs, int outputs) : base("Zero")
        {
            _linear = nn.Linear(inputs, outputs);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => _linear.forward(input.flatten(1)) * 0;
    }
}
