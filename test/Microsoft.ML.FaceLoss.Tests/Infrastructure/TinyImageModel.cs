using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>
/// A whole image pipeline trained in a second on synthetic faces written as PNG files: image path ->
/// image -> 16 x 16 -> pixels in [-1, 1] -> 8-D embedding. For tests of files, disposal and integrity.
/// </summary>
public sealed class TinyImageModel : IDisposable
{
    public TinyImageModel(int identities = 4, int imagesPerIdentity = 4)
    {
        Folder = Path.Combine(Path.GetTempPath(), "faceloss-tiny-" + Guid.NewGuid().ToString("N"));
        Ml = new MLContext(seed: 1);
        Ml.FaceRecognition().Data.WriteSyntheticFaces(Path.Combine(Folder, "faces"),
            new SyntheticFaceOptions { Identities = identities, ImagesPerIdentity = imagesPerIdentity, ImageSize = 24 });
        Images = Ml.FaceRecognition().Data.LoadImageFolder(Path.Combine(Folder, "faces"));
        ImagePaths = Ml.Data.CreateEnumerable<PathRow>(Images, reuseRowObject: false).Select(r => r.ImagePath).ToList();
        var training = Ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(Images).Transform(Images);
        Model = Preprocessing(Ml)
            .Append(Ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
            {
                EmbeddingSize = 8, BackboneWidth = 4, Loss = new CosFaceLoss.Options { Scale = 8, Margin = 0.2 }, Epochs = 1, BatchSize = 8, Seed = 3,
            }))
            .Fit(training);
    }

    public string Folder { get; }

    public MLContext Ml { get; }

    /// <summary>ImagePath and Identity.</summary>
    public IDataView Images { get; }

    public IReadOnlyList<string> ImagePaths { get; }

    public TransformerChain<FaceEmbeddingTransformer> Model { get; }

    public DataViewSchema InputSchema => Images.Schema;

    /// <summary>ImagePath -> Image -> 16 x 16 -> Features (3 x 16 x 16 in [-1, 1]).</summary>
    public static IEstimator<ITransformer> Preprocessing(MLContext ml)
        => ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.Transforms.ResizeImages("Image", 16, 16))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1 / 127.5f, offsetImage: 127.5f));

    /// <summary>Saves the model with the library's atomic save and returns the path.</summary>
    public string Save(string name = "model.zip")
    {
        string path = Path.Combine(Folder, name);
        Ml.FaceRecognition().SaveModel(Model, InputSchema, path);
        return path;
    }

    /// <summary>The embeddings of <paramref name="model"/> for the images.</summary>
    public List<float[]> Embed(ITransformer model)
        => Ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(Images), reuseRowObject: false).Select(r => r.Embedding).ToList();

    public void Dispose()
    {
        Model.LastTransformer.Dispose();
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    public sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
