using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Onnx;
using Microsoft.ML.FaceLoss.Training;
using Microsoft.ML.Transforms.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Onnx;

/// <summary>
/// ONNX export: every built-in backbone (tiny sizes, trained one epoch so that batch normalization
/// holds real statistics) is written, checked by ONNX Runtime within 1e-4 of TorchSharp at export,
/// and gives TorchSharp's embeddings on other images through ML.NET's <c>ApplyOnnxModel</c>.
/// </summary>
[Collection(Infrastructure.TorchCollection.Name)]
public sealed class OnnxExportTests : IDisposable
{
    private const int Channels = 3, Size = 16, EmbeddingSize = 8;

    private readonly string _folder = Directory.CreateTempSubdirectory("faceloss-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public sealed class Row
    {
        [VectorType(Channels * Size * Size)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    private sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private static List<Row> Rows(int identities, int perIdentity, int seed)
    {
        var random = new Random(seed);
        var rows = new List<Row>();
        for (int id = 0; id < identities; id++)
        {
            var pattern = Enumerable.Range(0, Channels * Size * Size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            for (int k = 0; k < perIdentity; k++)
                rows.Add(new Row { Identity = $"id{id}", Features = pattern.Select(v => v + (float)(random.NextDouble() - 0.5) * 0.4f).ToArray() });
        }
        return rows;
    }

    private static FaceEmbeddingTransformer Train(MLContext ml, FaceBackbone backbone, BackboneFactory? custom = null)
    {
        var options = new FaceEmbeddingTrainer.Options
        {
            Backbone = backbone,
            CustomBackbone = custom,
            ImageChannels = Channels,
            ImageHeight = Size,
            ImageWidth = Size,
            EmbeddingSize = EmbeddingSize,
            BackboneWidth = backbone == FaceBackbone.MobileFaceNet ? 8 : 4,
            Loss = new ArcFaceLoss.Options(),
            Epochs = 1,
            BatchSize = 8,
            // One epoch at a small rate: weights and batch-norm statistics that are no longer the initial ones, without the collapse a deep net risks on 16 images.
            LearningRate = 0.001,
            Seed = 5,
        };
        var data = ml.Data.LoadFromEnumerable(Rows(4, 4, seed: 1));
        return ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Append(ml.FaceRecognition().Trainers.Embedding(options)).Fit(data).LastTransformer;
    }

    /// <summary>The embeddings of other images than the export checked, through ApplyOnnxModel, against the transformer's.</summary>
    private static double OnnxAgainstTorchSharp(MLContext ml, FaceEmbeddingTransformer model, string onnxPath)
    {
        var images = ml.Data.LoadFromEnumerable(Rows(3, 3, seed: 2));
        var expected = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(images), reuseRowObject: false).ToList();
        var onnx = ml.Transforms.ApplyOnnxModel(new OnnxOptions
        {
            ModelFile = onnxPath,
            InputColumns = new[] { "Features" },
            OutputColumns = new[] { "Embedding" },
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        }).Fit(images);
        var actual = ml.Data.CreateEnumerable<EmbeddingRow>(onnx.Transform(images), reuseRowObject: false).ToList();
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(EmbeddingSize, actual[i].Embedding.Length);
            for (int j = 0; j < EmbeddingSize; j++) worst = Math.Max(worst, Math.Abs(expected[i].Embedding[j] - actual[i].Embedding[j]));
        }
        return worst;
    }

    [Theory]
    [InlineData(FaceBackbone.SmallCnn)]
    [InlineData(FaceBackbone.LeNetPlusPlus)]
    [InlineData(FaceBackbone.LeNetPlusPlusBatchNorm)]
    [InlineData(FaceBackbone.IResNet18)]
    [InlineData(FaceBackbone.IResNet34)]
    [InlineData(FaceBackbone.IResNet50)]
    [InlineData(FaceBackbone.MobileFaceNet)]
    public void EveryBuiltInBackboneExportsAndOnnxRuntimeGivesTorchSharpsEmbeddings(FaceBackbone backbone)
    {
        var ml = new MLContext(1);
        using var model = Train(ml, backbone);
        string path = Path.Combine(_folder, $"{backbone}.onnx");

        var result = ml.FaceRecognition().ExportToOnnx(model, path);

        Assert.True(File.Exists(path));
        Assert.Equal(new FileInfo(path).Length, result.FileBytes);
        Assert.InRange(result.MaxDifference, 0, 1e-4);
        Assert.Equal(8, result.CheckedImages);
        Assert.Equal(("Features", "Embedding", EmbeddingSize, 13L), (result.InputName, result.OutputName, result.EmbeddingSize, result.Opset));
        Assert.InRange(OnnxAgainstTorchSharp(ml, model, path), 0, 1e-4);
    }

    [Fact]
    public void TheFlipTestIsPartOfTheExportedGraph()
    {
        var ml = new MLContext(1);
        using var trained = Train(ml, FaceBackbone.SmallCnn);
        var flipped = trained.WithFlipTest();
        string path = Path.Combine(_folder, "flip.onnx");

        var result = ml.FaceRecognition().ExportToOnnx(flipped, path);

        Assert.True(result.FlipTest);
        Assert.Equal("true", result.Metadata["flip_test"]);
        Assert.InRange(OnnxAgainstTorchSharp(ml, flipped, path), 0, 1e-4);
        // Without the flip the embeddings differ: the exported mirror image does change the result.
        Assert.True(OnnxAgainstTorchSharp(ml, trained, path) > 1e-3, "The flip-test graph gives the embeddings of the plain network.");
        // The network is written twice, its weights once: the flip adds only the four slice bounds.
        var plain = ml.FaceRecognition().ExportToOnnx(trained, Path.Combine(_folder, "plain.onnx"));
        int Initializers(string file) => global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file)).Graph.Initializer.Count;
        Assert.Equal(Initializers(plain.Path) + 4, Initializers(path));
    }

    [Fact]
    public void TheMetadataDescribesTheInputTheOutputAndTheTraining()
    {
        var ml = new MLContext(1);
        using var model = Train(ml, FaceBackbone.SmallCnn);
        var result = ml.FaceRecognition().ExportToOnnx(model, Path.Combine(_folder, "m.onnx"));

        Assert.Equal($"{EmbeddingSize}", result.Metadata["embedding_size"]);
        Assert.Equal($"{Channels},{Size},{Size}", result.Metadata["input_shape"]);
        Assert.Equal("SmallCnn", result.Metadata["backbone"]);
        Assert.Equal("ArcFace", result.Metadata["loss_head"]);
        Assert.StartsWith("unknown", result.Metadata["pixel_scaling"]);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(result.Path);
        Assert.Equal(result.Metadata, session.ModelMetadata.CustomMetadataMap);
        Assert.Equal(new[] { -1, Channels * Size * Size }, session.InputMetadata["Features"].Dimensions);
        Assert.Equal("N", session.InputMetadata["Features"].SymbolicDimensions[0]);
    }

    [Fact]
    public void AnImagePipelineRecordsItsPixelScalingAndIsCheckedOnItsOwnImages()
    {
        // The version-1 fixture: image loading, centre crop, ML.NET's resize and ExtractPixels (offset 127.5, scale 1/127.5), embedding with the flip test.
        string folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "models-v1");
        var ml = new MLContext(1);
        var model = ml.Model.Load(Path.Combine(folder, "image-model.zip"), out _);
        var faces = Directory.GetFiles(Path.Combine(folder, "faces"), "*.png", SearchOption.AllDirectories).Order()
            .Select(f => new ImageRow { ImagePath = f }).ToList();
        var embedder = FaceRecognitionCatalog.Steps(model).OfType<FaceEmbeddingTransformer>().Single();
        var pixels = model.Transform(ml.Data.LoadFromEnumerable(faces));

        var result = ml.FaceRecognition().ExportToOnnx(model, Path.Combine(_folder, "image.onnx"),
            new OnnxExportOptions { ValidationData = pixels, ValidationBatchSize = 12 });

        Assert.Equal("127.5", result.Metadata["pixel_offset"]);
        Assert.Equal((1 / 127.5f).ToString("R", System.Globalization.CultureInfo.InvariantCulture), result.Metadata["pixel_scale"]);
        Assert.Equal("Red,Green,Blue", result.Metadata["channel_order"]);
        Assert.Equal(embedder.FeatureColumnName, result.InputName);
        Assert.Equal(12, result.CheckedImages);
        Assert.True(result.FlipTest);
        Assert.InRange(result.MaxDifference, 0, 1e-4);
        (model as IDisposable)?.Dispose();
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>A custom backbone of standard layers in a Sequential.</summary>
    public sealed class PlainLayers : BackboneFactory
    {
        public override nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int embeddingSize)
            => nn.Sequential(("conv", nn.Conv2d(channels, 4, 3, padding: 1)), ("bn", nn.BatchNorm2d(4)), ("act", nn.PReLU(4, 0.25)),
                ("pool", nn.MaxPool2d(2, 2)), ("flat", nn.Flatten()), ("fc", nn.Linear(4 * (height / 2) * (width / 2), embeddingSize)));
    }

    /// <summary>A custom backbone whose forward pass is code the exporter cannot read.</summary>
    public sealed class OwnModule : BackboneFactory
    {
        public override nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int embeddingSize) => new Squares(channels * height * width, embeddingSize);

        private sealed class Squares : nn.Module<Tensor, Tensor>
        {
            private readonly global::TorchSharp.Modules.Linear fc;

            public Squares(long input, long output) : base("Squares")
            {
                fc = nn.Linear(input, output);
                RegisterComponents();
            }

            public override Tensor forward(Tensor input) => fc.forward(input.flatten(1).square());
        }
    }

    [Fact]
    public void ACustomBackboneOfStandardLayersExports()
    {
        var ml = new MLContext(1);
        using var model = Train(ml, FaceBackbone.Custom, new PlainLayers());
        string path = Path.Combine(_folder, "plain.onnx");
        var result = ml.FaceRecognition().ExportToOnnx(model, path);
        Assert.InRange(result.MaxDifference, 0, 1e-4);
        Assert.InRange(OnnxAgainstTorchSharp(ml, model, path), 0, 1e-4);
    }

    [Fact]
    public void AModuleTheExporterCannotWriteIsNamedAndNoFileIsLeft()
    {
        var ml = new MLContext(1);
        using var model = Train(ml, FaceBackbone.Custom, new OwnModule());
        string path = Path.Combine(_folder, "own.onnx");
        File.WriteAllText(path, "an earlier file");

        var error = Assert.Throws<NotSupportedException>(() => ml.FaceRecognition().ExportToOnnx(model, path));

        Assert.Contains("Squares", error.Message);
        Assert.Contains("cannot be exported to ONNX", error.Message);
        Assert.Equal("an earlier file", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AnExportThatDoesNotReproduceTorchSharpWritesNothing()
    {
        var ml = new MLContext(1);
        using var model = Train(ml, FaceBackbone.SmallCnn);
        string path = Path.Combine(_folder, "strict.onnx");

        // No float32 computation in another runtime is exact to 1e-12.
        var error = Assert.Throws<InvalidOperationException>(() => ml.FaceRecognition().ExportToOnnx(model, path, new OnnxExportOptions { Tolerance = 1e-12 }));

        Assert.Contains("does not reproduce TorchSharp", error.Message);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AModelWithoutAnEmbeddingIsRefusedWithTheCure()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Rows(2, 2, 1));
        var notAFaceModel = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(data);
        var error = Assert.Throws<ArgumentException>(() => ml.FaceRecognition().ExportToOnnx(notAFaceModel, Path.Combine(_folder, "x.onnx")));
        Assert.Contains("holds no FaceEmbeddingTransformer", error.Message);
    }
}
