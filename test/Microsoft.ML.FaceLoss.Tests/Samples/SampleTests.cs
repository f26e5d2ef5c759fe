using System.IO.Compression;
using FaceVerification;
using FaceVerification.Onnx;
using LossComparison;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Samples;

/// <summary>Each sample's main path on a tiny configuration: it runs and writes its outputs.</summary>
[Collection(TorchCollection.Name)]
public sealed class SampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-samples-" + Guid.NewGuid().ToString("N"));

    public SampleTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static FaceModel.TrainingSettings Tiny => new() { Epochs = 1, ImageSize = 24, EmbeddingSize = 16 };

    [Fact]
    public void FaceVerificationTrainsOnSyntheticFacesSavesAndUsesItsModels()
    {
        var result = FaceVerificationApp.Run(new SampleOptions
        {
            Output = _folder, SyntheticPeople = 8, SyntheticImages = 4, Training = Tiny, ShowProgress = false,
        });
        Assert.True(File.Exists(result.ModelPath));
        Assert.True(File.Exists(result.GalleryPath));
        Assert.Equal((6, 2), (result.TrainingPeople, result.UnseenPeople));
        Assert.Equal(12, result.Verification.SamePairs); // 2 people x 6 pairs of their 4 images
        Assert.InRange(result.Verification.Accuracy, 0, 1);
        Assert.Equal(32, Directory.GetFiles(Path.Combine(_folder, "synthetic-faces"), "*.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void TheOnnxDeploymentDecidesAsTheTorchSharpPathDid()
    {
        string onnx = Path.Combine(_folder, "onnx");
        FaceVerificationApp.Run(new SampleOptions
        {
            Output = _folder, SyntheticPeople = 8, SyntheticImages = 4, Training = Tiny, ShowProgress = false, OnnxFolder = onnx,
        });
        foreach (var file in new[] { OnnxDeployment.EmbeddingFile, OnnxDeployment.ImageStepsFile, OnnxDeployment.PairScoringFile, OnnxDeployment.GalleryFile })
            Assert.True(File.Exists(Path.Combine(onnx, file)), file);

        var result = OnnxVerificationApp.Run(onnx);

        Assert.Equal(24, result.Pairs);
        Assert.Equal(4, result.Probes);
        Assert.Equal(result.Pairs, result.EqualDecisions);
        Assert.Equal(result.Probes, result.EqualIdentities);
        Assert.InRange(result.LargestScoreDifference, 0, 1e-4);
    }

    [Fact]
    public void FaceVerificationReadsAFolderOfPhotosAndAPairsList()
    {
        string photos = Path.Combine(_folder, "photos");
        new MLContext().FaceRecognition().Data.WriteSyntheticFaces(photos, new SyntheticFaceOptions { Identities = 8, ImagesPerIdentity = 4, ImageSize = 32 });
        string pairs = Path.Combine(_folder, "pairs.csv");
        File.WriteAllLines(pairs, new[]
        {
            "path1,path2,same,fold",
            "person0006/00.png,person0006/01.png,1,0", "person0007/00.png,person0007/02.png,1,1",
            "person0006/02.png,person0007/01.png,0,0", "person0006/03.png,person0007/03.png,0,1",
        });
        var result = FaceVerificationApp.Run(new SampleOptions
        {
            Data = photos, Pairs = pairs, Output = Path.Combine(_folder, "out"), Training = Tiny, ShowProgress = false,
        });
        Assert.Equal((2, 2, 2), (result.Verification.SamePairs, result.Verification.DifferentPairs, result.Verification.Folds));
        Assert.True(File.Exists(result.ModelPath));
    }

    [Fact]
    public void LossComparisonWritesItsTablePicturesAndResults()
    {
        var results = LossComparisonApp.Run(new ComparisonOptions
        {
            Output = _folder, Heads = new[] { "Softmax", "CenterLoss", "Triplet" }, FeatureEpochs = 1, FeatureImagesPerClass = 4, FeatureHeldOutPerClass = 2,
            CompareEpochs = 1, TrainingIdentities = 6, UnseenIdentities = 4, ImagesPerIdentity = 4, ImageSize = 24,
        }, TextWriter.Null);
        Assert.Equal(3, results.Features.Count);
        Assert.All(results.Features, f => Assert.Equal(20, f.X.Count)); // the held-out points: 2 of each of 10 classes
        Assert.All(results.Features, f => Assert.Equal(20, f.Geometry!.OwnAngles.Count));
        Assert.Equal(3, results.Verification.Count);
        Assert.All(results.Verification, v => Assert.InRange(v.Auc, 0, 1));
        Assert.Contains("| Triplet |", File.ReadAllText(Path.Combine(_folder, "results.md")));
        foreach (var picture in new[] { "features.png", "angles.png", "roc.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(_folder, picture));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4));
        }
    }

    [Fact]
    public void IdxFilesAreReadPlainOrGzipped()
    {
        static byte[] Header(int magic, params int[] sizes)
            => new[] { magic }.Concat(sizes).SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();
        File.WriteAllBytes(Path.Combine(_folder, "train-images-idx3-ubyte"), Header(0x803, 2, 2, 2).Concat(new byte[] { 0, 255, 0, 0, 255, 255, 255, 255 }).ToArray());
        using (var gz = new GZipStream(File.Create(Path.Combine(_folder, "train-labels-idx1-ubyte.gz")), CompressionLevel.Fastest))
            gz.Write(Header(0x801, 2).Concat(new byte[] { 3, 9 }).ToArray());
        var (images, labels, height, width) = IdxReader.Read(_folder);
        Assert.Equal((2, 2), (height, width));
        Assert.Equal(new[] { 3, 9 }, labels);
        Assert.Equal(new[] { -1f, 1f, -1f, -1f }, images[0]);
    }
}
