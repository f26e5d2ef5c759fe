using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Backbones;

/// <summary>dlib's pretrained ResNet-29 as a backbone: its weights, its forward pass, fine-tuning with frozen stages.</summary>
[Collection(TorchCollection.Name)]
public sealed class DlibResNet29Tests
{
    private const int Size = DlibResNet29.InputSize;

    /// <summary>A synthetic face at 150 x 150 as planar RGB in [-1, 1], the input of every pipeline here.</summary>
    private static float[] Face(int identity, int image)
    {
        using var picture = SyntheticFaces.Render(identity, image, new SyntheticFaceOptions { ImageSize = Size });
        var bgra = picture.Pixels;
        int n = Size * Size;
        var planar = new float[3 * n];
        for (int p = 0; p < n; p++)
            (planar[p], planar[n + p], planar[2 * n + p]) = (bgra[p * 4 + 2] / 127.5f - 1, bgra[p * 4 + 1] / 127.5f - 1, bgra[p * 4] / 127.5f - 1);
        return planar;
    }

    private static DlibResNet29 Pretrained()
    {
        var network = (DlibResNet29)BackboneCatalog.Create(FaceBackbone.DlibResNet29, 3, Size, Size, 128, 0, 0, 0, null);
        network.LoadFaceApiWeights(PretrainedModels.ReadFaceRecognitionWeights(TestData.ModelsRoot));
        network.eval();
        return network;
    }

    [FaceRecognitionModelFact]
    public void DescriptorsEqualAnIndependentFloat64ImplementationOfFaceApi()
    {
        var reference = new DlibReference(TestData.ModelsRoot);
        using var network = Pretrained();
        foreach (var (identity, image) in new[] { (1, 0), (2, 3) })
        {
            var pixels = Face(identity, image);
            var expected = reference.Descriptor(pixels);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var actual = network.forward(tensor(pixels).view(1, 3, Size, Size)).data<float>().ToArray();

            Assert.Equal(128, actual.Length);
            double largest = expected.Max(Math.Abs);
            Assert.InRange(largest, 0.01, 10); // a real descriptor, not zeros
            double worst = actual.Select((v, i) => Math.Abs(v - expected[i])).Max();
            Assert.True(worst <= 1e-4 * Math.Max(1, largest), $"face {identity}/{image}: largest difference {worst:G3} from the float64 reference (values up to {largest:G3}).");
        }
    }

    [FaceRecognitionModelFact]
    public void PretrainedEmbeddingGivesTheNetworksUnitDescriptorsThroughMLContext()
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Size, Size);
        var faces = new[] { Face(1, 0), Face(2, 3) };
        var data = ml.Data.LoadFromEnumerable(faces.Select(f => new Row { Features = f }), schema);

        using var model = ml.FaceRecognition().PretrainedEmbedding(modelFolder: TestData.ModelsRoot).Fit(data);
        var embeddings = model.Transform(data).GetColumn<float[]>("Embedding").ToList();

        using var network = Pretrained();
        for (int i = 0; i < faces.Length; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var raw = network.forward(tensor(faces[i]).view(1, 3, Size, Size));
            var expected = nn.functional.normalize(raw, p: 2, dim: 1).data<float>().ToArray();
            Assert.Equal(128, embeddings[i].Length);
            Assert.All(embeddings[i].Zip(expected), pair => Assert.Equal(pair.Second, pair.First, tolerance: 1e-5));
        }
    }

    [Fact]
    public void PretrainedEmbeddingNamesTheColumnAndTheSizeItNeeds()
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, 64, 64);
        var data = ml.Data.LoadFromEnumerable(new[] { new Row { Features = new float[3 * 64 * 64] } }, schema);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.FaceRecognition().PretrainedEmbedding(modelFolder: "unused").Fit(data));
        Assert.Contains("'Features'", error.Message);
        Assert.Contains("150 x 150", error.Message);
    }

    [FaceRecognitionModelFact]
    public void WeightFilesThatDoNotBelongTogetherAreRefusedWithTheReason()
    {
        string folder = Path.Combine(Path.GetTempPath(), "faceloss-dlib-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.Copy(Path.Combine(TestData.ModelsRoot, PretrainedModels.FaceRecognitionManifest), Path.Combine(folder, PretrainedModels.FaceRecognitionManifest));
            var shard = File.ReadAllBytes(Path.Combine(TestData.ModelsRoot, "face_recognition_model.bin"));
            File.WriteAllBytes(Path.Combine(folder, "face_recognition_model.bin"), shard.AsSpan(0, shard.Length / 2).ToArray());
            var error = Assert.Throws<InvalidDataException>(() => PretrainedModels.ReadFaceRecognitionWeights(folder));
            Assert.Contains("truncated", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AMissingModelFolderNamesTheFolderAndWhereToGetTheFiles()
    {
        string folder = Path.Combine(Path.GetTempPath(), "no-such-face-api-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<FileNotFoundException>(() => PretrainedModels.ReadFaceRecognitionWeights(folder));
        Assert.Contains(folder, error.Message);
        Assert.Contains("@vladmandic/face-api", error.Message);
    }

    [Fact]
    public void FrozenStagesBelongToThePretrainedBackboneOnly()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Row { Features = new float[12], Identity = "a" } });
        var error = Assert.Throws<ArgumentException>(() => ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.SmallCnn, FrozenStages = 2,
        }).Fit(data));
        Assert.Contains("FrozenStages", error.Message);
    }

    [FaceRecognitionModelFact]
    public void FineTuningWithoutGradientClippingThatCollapsesTheNetworkIsRefused()
    {
        // Without batch norm, dlib's network explodes under unclipped gradients: every image ends at one
        // embedding of unit length, which only a check of the embeddings' spread reveals.
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Size, Size);
        var rows = Enumerable.Range(0, 4).SelectMany(id => Enumerable.Range(0, 4).Select(i => new Row { Features = Face(20 + id, i), Identity = $"person{id}" })).ToList();
        var raw = ml.Data.LoadFromEnumerable(rows, schema);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Identity)).Fit(raw).Transform(raw);

        var error = Assert.Throws<InvalidOperationException>(() => ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.DlibResNet29, PretrainedModelFolder = TestData.ModelsRoot, FrozenStages = 3, EmbeddingSize = 128,
            Loss = new CosFaceLoss.Options { Scale = 16, Margin = 0.2 }, Epochs = 2, BatchSize = 8, LearningRate = 0.05, HorizontalFlip = false, Seed = 2,
        }).Fit(data));

        Assert.Contains("one embedding for all", error.Message);
        Assert.Contains("GradientClipNorm", error.Message);
    }

    [FaceRecognitionModelFact]
    public void FineTuningKeepsFrozenStagesAndTheModelSurvivesSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Size, Size);
        var rows = Enumerable.Range(0, 4).SelectMany(id => Enumerable.Range(0, 2).Select(i => new Row { Features = Face(10 + id, i), Identity = $"person{id}" })).ToList();
        var raw = ml.Data.LoadFromEnumerable(rows, schema);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Identity)).Fit(raw).Transform(raw);

        using var model = ml.FaceRecognition().Trainers.Embedding(new FaceEmbeddingTrainer.Options
        {
            Backbone = FaceBackbone.DlibResNet29, PretrainedModelFolder = TestData.ModelsRoot, FrozenStages = 2, EmbeddingSize = 128,
            Loss = new ArcFaceLoss.Options { Scale = 16, Margin = 0.2 }, Epochs = 1, BatchSize = 4, LearningRate = 0.01, HorizontalFlip = false, Seed = 2,
            GradientClipNorm = 1,
        }).Fit(data);

        using var pretrained = Pretrained();
        var before = pretrained.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var after = model.Network.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach());
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();
        foreach (var name in before.Keys.Where(n => n.StartsWith("conv32", StringComparison.Ordinal) || n.StartsWith("conv64", StringComparison.Ordinal)))
            Assert.True(Same(before[name], after[name]), $"{name} is in a frozen stage but changed.");
        Assert.Contains(before.Keys.Where(n => n.StartsWith("conv256", StringComparison.Ordinal) || n == "fc.weight"), name => !Same(before[name], after[name]));

        string path = Path.Combine(Path.GetTempPath(), "faceloss-dlib-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var loaded = (FaceEmbeddingTransformer)ml.Model.Load(path, out _);
            using (loaded)
            {
                Assert.Equal(FaceBackbone.DlibResNet29, loaded.Backbone);
                var face = Face(10, 0);
                Assert.Equal(model.Embed(face), loaded.Embed(face));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }
}
