using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Tests.Data;

[Collection(TorchCollection.Name)]
public sealed class SyntheticFacesTests
{
    private readonly MLContext _ml = new(seed: 1);

    [Fact]
    public void TheSameSeedDrawsTheSameImage()
    {
        var options = new SyntheticFaceOptions { ImageSize = 32 };
        using var a = SyntheticFaces.Render(3, 2, options);
        using var b = SyntheticFaces.Render(3, 2, options);
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());
        using var otherSeed = SyntheticFaces.Render(3, 2, new SyntheticFaceOptions { ImageSize = 32, Seed = 2 });
        Assert.NotEqual(a.Pixels.ToArray(), otherSeed.Pixels.ToArray());
        using var otherImage = SyntheticFaces.Render(3, 3, options);
        Assert.NotEqual(a.Pixels.ToArray(), otherImage.Pixels.ToArray());
    }

    [Fact]
    public void WithoutVariationEveryImageOfAnIdentityIsAlike()
    {
        var options = new SyntheticFaceOptions { ImageSize = 32, Variation = 0 };
        using var a = SyntheticFaces.Render(5, 0, options);
        using var b = SyntheticFaces.Render(5, 7, options);
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());
    }

    [Fact]
    public void TheDataViewHoldsKnownSizeImagesAndIdentities()
    {
        var view = _ml.FaceRecognition().Data.LoadSyntheticFaces(new SyntheticFaceOptions { Identities = 3, ImagesPerIdentity = 4, ImageSize = 24, FirstIdentity = 10 });
        var type = Assert.IsType<ImageDataViewType>(view.Schema["Image"].Type);
        Assert.Equal((24, 24), (type.Height, type.Width));
        var identities = view.GetColumn<string>("Identity").ToList();
        Assert.Equal(12, identities.Count);
        Assert.Equal(new[] { "person0010", "person0011", "person0012" }, identities.Distinct());
    }

    [Fact]
    public void AWrittenFolderReadsBackAsAnImageFolder()
    {
        string root = Path.Combine(Path.GetTempPath(), "faceloss-synthetic-" + Guid.NewGuid().ToString("N"));
        try
        {
            int written = _ml.FaceRecognition().Data.WriteSyntheticFaces(root, new SyntheticFaceOptions { Identities = 2, ImagesPerIdentity = 3, ImageSize = 20 });
            Assert.Equal(6, written);
            var rows = _ml.Data.CreateEnumerable<FaceImageRow>(_ml.FaceRecognition().Data.LoadImageFolder(root), reuseRowObject: false).ToList();
            Assert.Equal(6, rows.Count);
            using var loaded = FaceLoss.Data.FaceImageLoadingTransformer.LoadImage(rows[0].ImagePath);
            using var drawn = SyntheticFaces.Render(0, 0, new SyntheticFaceOptions { ImageSize = 20 });
            Assert.Equal(drawn.Pixels.ToArray(), loaded.Pixels.ToArray()); // PNG is lossless
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void UnseenSyntheticIdentitiesAreDistinguishableAfterTraining()
    {
        var pipeline = _ml.Transforms.ResizeImages("Image", 32, 32)
            .Append(_ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1 / 127.5f, offsetImage: 127.5f))
            .Append(_ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
            {
                EmbeddingSize = 32, BackboneWidth = 8, Loss = new CosFaceLoss.Options { Scale = 16, Margin = 0.2 },
                Epochs = 12, BatchSize = 32, LearningRate = 0.05, Seed = 2,
            }));
        var seen = _ml.FaceRecognition().Data.LoadSyntheticFaces(new SyntheticFaceOptions { Identities = 30, ImagesPerIdentity = 8, ImageSize = 32 });
        var keyed = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(seen).Transform(seen);
        var model = pipeline.Fit(keyed);
        var unseen = _ml.FaceRecognition().Data.LoadSyntheticFaces(new SyntheticFaceOptions { Identities = 10, FirstIdentity = 100, ImagesPerIdentity = 8, ImageSize = 32 });
        var retrieval = _ml.FaceRecognition().EvaluateRetrieval(model.Transform(unseen));
        // Chance precision@1 is 7 / 79 (about 0.09).
        Assert.True(retrieval.PrecisionAt1 > 0.5, retrieval.ToString());
    }
}
