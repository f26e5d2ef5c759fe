using FaceVerification;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Samples;

/// <summary>The sample's pretrained path: two photos verified with no training, fine-tuning on a folder of people.</summary>
[Collection(TorchCollection.Name)]
public sealed class PretrainedSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-pretrained-" + Guid.NewGuid().ToString("N"));

    public PretrainedSampleTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Lfw(string person, int number) => Path.Combine(TestData.LfwImages, person, $"{person}_{number:D4}.jpg");

    [FaceDetectionFact]
    public void VerifiesTwoPhotosOfOnePersonAndOfTwoPeople()
    {
        var same = PretrainedApp.Verify(Lfw("George_W_Bush", 1), Lfw("George_W_Bush", 2), TestData.ModelsRoot);
        var different = PretrainedApp.Verify(Lfw("George_W_Bush", 1), Lfw("Tony_Blair", 1), TestData.ModelsRoot);

        Assert.Equal(new[] { true, true }, same.FaceFound);
        Assert.True(same.SamePerson, $"cosine {same.Cosine:F3}");
        Assert.False(different.SamePerson, $"cosine {different.Cosine:F3}");
        Assert.True(same.Cosine > different.Cosine);
    }

    [FaceDetectionFact]
    public void APhotoWithoutAFaceGetsNoDecision()
    {
        string blank = Path.Combine(_folder, "blank.png");
        using (var image = Microsoft.ML.Data.MLImage.CreateFromPixels(200, 200, Microsoft.ML.Data.MLPixelFormat.Bgra32, Enumerable.Repeat((byte)90, 200 * 200 * 4).ToArray()))
            image.Save(blank);
        var result = PretrainedApp.Verify(Lfw("George_W_Bush", 1), blank, TestData.ModelsRoot);
        Assert.Equal(new[] { true, false }, result.FaceFound);
        Assert.True(double.IsNaN(result.Cosine));
        Assert.False(result.SamePerson);
    }

    [FaceDetectionFact]
    public void FineTunesOnAFolderOfPeopleAndSavesAModelThatTakesPhotos()
    {
        // Six LFW people with at least 5 photos (copied, 5 each): 4 to fine-tune on, 2 unseen.
        string people = Path.Combine(_folder, "people");
        var chosen = Directory.GetDirectories(TestData.LfwImages).Where(d => Directory.GetFiles(d).Length >= 5).OrderBy(d => d, StringComparer.Ordinal).Take(6).ToList();
        foreach (var person in chosen)
        {
            string target = Path.Combine(people, Path.GetFileName(person));
            Directory.CreateDirectory(target);
            foreach (var photo in Directory.GetFiles(person).OrderBy(f => f, StringComparer.Ordinal).Take(5)) File.Copy(photo, Path.Combine(target, Path.GetFileName(photo)));
        }

        var result = PretrainedApp.FineTune(new PretrainedOptions
        {
            Data = people, Output = Path.Combine(_folder, "out"), Models = TestData.ModelsRoot, People = 6, Epochs = 1, ShowProgress = false,
        });

        Assert.Equal((4, 2), (result.TrainingPeople, result.UnseenPeople));
        Assert.InRange(result.ImagesWithoutFace, 0, 3);
        Assert.InRange(result.Before.Accuracy, 0.5, 1);
        Assert.InRange(result.After.Accuracy, 0.5, 1);
        Assert.True(result.After.Auc > 0.6, $"fine-tuned AUC {result.After.Auc:F3}: the network collapsed");
        Assert.True(result.Before.SamePairs > 0);
        var ml = new MLContext(seed: 1);
        var model = ml.FaceRecognition().LoadModel(result.ModelPath, out _);
        var rows = ml.Data.LoadFromEnumerable(new[] { new Microsoft.ML.FaceLoss.Data.FaceImageRow { ImagePath = Lfw("George_W_Bush", 1) } });
        var embedding = model.Transform(rows).GetColumn<float[]>("Embedding").Single();
        Assert.Equal(1, Math.Sqrt(embedding.Sum(v => (double)v * v)), 4);
    }
}
