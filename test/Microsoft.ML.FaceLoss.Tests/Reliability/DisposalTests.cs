using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>A disposed model refuses every use with a clear message and never damages a saved file.</summary>
[Collection(TorchCollection.Name)]
public sealed class DisposalTests : IDisposable
{
    private readonly TinyImageModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    [Fact]
    public void SavingADisposedModelThrowsAndKeepsTheFileSavedBefore()
    {
        string path = _tiny.Save();
        byte[] before = File.ReadAllBytes(path);
        var loaded = (TransformerChain<ITransformer>)_tiny.Ml.FaceRecognition().LoadModel(path, out var schema);
        ((IDisposable)loaded).Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => _tiny.Ml.FaceRecognition().SaveModel(loaded, schema, path));
        Assert.Contains("disposed", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_tiny.Folder, "*.tmp"));
        Assert.NotNull(new MLContext().FaceRecognition().LoadModel(path, out _)); // the saved model still loads
    }

    [Fact]
    public void UsingADisposedModelSaysSoAndHowToGetItBack()
    {
        string path = _tiny.Save();
        var model = _tiny.Ml.FaceRecognition().LoadModel(path, out _);
        var embedder = ((TransformerChain<ITransformer>)model).OfType<FaceEmbeddingTransformer>().Single();
        embedder.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => _tiny.Embed(model));
        Assert.Contains("was disposed", error.Message);
        Assert.Contains("Load the model again", error.Message);
        Assert.Throws<ObjectDisposedException>(() => embedder.Embed(new float[3 * 16 * 16]));
    }

    /// <summary>Disposal waits for an embedding in progress; every later prediction gets an ObjectDisposedException, never a crash.</summary>
    [Fact]
    public void DisposingWhileFourThreadsPredictIsSafe()
    {
        string path = _tiny.Save();
        for (int round = 0; round < 15; round++)
        {
            var ml = new MLContext();
            var model = ml.FaceRecognition().LoadModel(path, out _);
            var failures = new List<Exception>();
            int predictions = 0;
            using var started = new CountdownEvent(4);
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                var engine = ml.Model.CreatePredictionEngine<TinyImageModel.PathRow, TinyImageModel.EmbeddingRow>(model);
                started.Signal();
                try
                {
                    for (int i = 0; ; i++)
                    {
                        Assert.Equal(8, engine.Predict(new TinyImageModel.PathRow { ImagePath = _tiny.ImagePaths[(t + i) % _tiny.ImagePaths.Count] }).Embedding.Length);
                        Interlocked.Increment(ref predictions);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // what every prediction after the disposal gets
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            started.Wait();
            Thread.Sleep(20 + round * 3);
            ((IDisposable)model).Dispose();
            threads.ForEach(t => t.Join());
            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
            Assert.True(predictions > 0);
        }
    }
}
