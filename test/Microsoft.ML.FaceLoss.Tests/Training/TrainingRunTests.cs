using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Testing;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Training;

/// <summary>Checkpoints and resume, cancellation, the NaN guard, progress, validation, and the other training options.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrainingRunTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-run-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private IDataView Data(int identities = 6, int perIdentity = 8) => SyntheticImages.Load(_ml, identities, perIdentity);

    private static FaceEmbeddingTrainer.Options Options(int epochs = 3) => new()
    {
        EmbeddingSize = 8, BackboneWidth = 4, Loss = new CosFaceLoss.Options { Scale = 8, Margin = 0.2 }, Epochs = epochs,
        BatchSize = 8, LearningRate = 0.05, DropoutRate = 0.2, Seed = 5, RandomCropPadding = 1,
    };

    private float[][] Embed(ITransformer model)
        => _ml.Data.CreateEnumerable<Output>(model.Transform(Data()), reuseRowObject: false).Select(o => o.Embedding).ToArray();

    [Theory]
    [InlineData(9, 0.2, 0.9)] // in the middle of epoch 2
    [InlineData(6, 0.2, 0.9)] // at the end of epoch 1
    public void AResumedRunEndsWithTheWeightsOfAnUninterruptedOne(int cancelAt, double dropout, double momentum)
    {
        FaceEmbeddingTrainer.Options Options() { var o = TrainingRunTests.Options(); o.DropoutRate = dropout; o.Momentum = momentum; return o; }
        var reference = SyntheticImages.Pipeline(_ml, Options()).Fit(Data());

        using var cancel = new CancellationTokenSource();
        var interrupted = Options();
        interrupted.CheckpointFolder = _folder;
        interrupted.Cancellation = cancel.Token;
        interrupted.Progress = new ProgressCallback(p => { if (p.Step == cancelAt) cancel.Cancel(); }); // mid-epoch 2 of 6 steps each
        Assert.ThrowsAny<OperationCanceledException>(() => SyntheticImages.Pipeline(_ml, interrupted).Fit(Data()));
        Assert.True(File.Exists(Path.Combine(_folder, "checkpoint.bin")));

        var resumed = Options();
        resumed.CheckpointFolder = _folder;
        long firstStep = -1;
        resumed.Progress = new ProgressCallback(p => { if (firstStep < 0) firstStep = p.Step; });
        var model = SyntheticImages.Pipeline(_ml, resumed).Fit(Data());
        Assert.Equal(cancelAt + 1, firstStep);
        Assert.Equal(Embed(reference), Embed(model));
        Assert.Equal(reference.LastTransformer.EpochLosses, model.LastTransformer.EpochLosses);
    }

    [Fact]
    public void AFinishedRunContinuesWhenMoreEpochsAreAsked()
    {
        var reference = SyntheticImages.Pipeline(_ml, Options(epochs: 3)).Fit(Data());
        var first = Options(epochs: 2);
        first.CheckpointFolder = _folder;
        first.CheckpointEverySteps = 4;
        SyntheticImages.Pipeline(_ml, first).Fit(Data());
        var longer = Options(epochs: 3);
        longer.CheckpointFolder = _folder;
        var model = SyntheticImages.Pipeline(_ml, longer).Fit(Data());
        Assert.Equal(Embed(reference), Embed(model));
    }

    [Fact]
    public void CancellationStopsAfterTheCurrentStepWithACheckpoint()
    {
        using var cancel = new CancellationTokenSource();
        var options = Options(epochs: 50);
        options.CheckpointFolder = _folder;
        options.Cancellation = cancel.Token;
        long lastStep = 0;
        options.Progress = new ProgressCallback(p => { lastStep = p.Step; if (p.Step == 3) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => SyntheticImages.Pipeline(_ml, options).Fit(Data()));
        Assert.Equal(3, lastStep);
        Assert.True(File.Exists(Path.Combine(_folder, "checkpoint.bin")));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsRefused()
    {
        var options = Options(epochs: 1);
        options.CheckpointFolder = _folder;
        SyntheticImages.Pipeline(_ml, options).Fit(Data());
        options.EmbeddingSize = 16;
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(Data()));
        Assert.Contains("another training run", error.Message);
        Assert.Contains("network:", error.Message);
    }

    [Fact]
    public void ACheckpointIsNotResumedOnOtherDataOrWithAnotherLearningRate()
    {
        var options = Options(epochs: 1);
        options.CheckpointFolder = _folder;
        SyntheticImages.Pipeline(_ml, options).Fit(Data());
        // The same number of identities and images, other pixels.
        var otherData = SyntheticImages.Load(_ml, 6, 8, seed: 99);
        var data = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(otherData));
        Assert.Contains("data: this run 48 rows in memory", data.Message);
        Assert.DoesNotContain("optimizer:", data.Message);
        options.LearningRate = 0.1;
        var rate = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(Data()));
        Assert.Contains("optimizer: this run Sgd, learning rate 0.1,", rate.Message);
        Assert.Contains("the checkpoint Sgd, learning rate 0.05,", rate.Message);
    }

    [Fact]
    public void ANonFiniteLossStopsTrainingWithTheStepRateAndCures()
    {
        var options = Options();
        options.LearningRate = 1e30;
        options.Loss = new SoftmaxLoss.Options();
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(Data()));
        Assert.Contains("diverged at step", error.Message);
        Assert.Contains("learning rate 1E+30", error.Message);
        Assert.Contains("SoftmaxWarmupEpochs", error.Message);
    }

    [Fact]
    public void ProgressReportsEveryStepAndTheLogGetsEpochMessages()
    {
        var messages = new List<string>();
        _ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var reports = new List<TrainingProgress>();
        var options = Options(epochs: 2);
        options.Progress = new ProgressCallback(reports.Add);
        SyntheticImages.Pipeline(_ml, options).Fit(Data());
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.True(r.ImagesPerSecond > 0 && r.LearningRate == 0.05 && r.TotalSteps == 12));
        Assert.Equal(TimeSpan.Zero, reports[^1].TimeRemaining);
        Assert.Contains(messages, m => m.Contains("Epoch 2/2: loss"));
    }

    [Fact]
    public void HeldOutIdentitiesAreValidatedEachEpoch()
    {
        var messages = new List<string>();
        _ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var options = Options(epochs: 3);
        options.ValidationIdentityFraction = 0.34;
        var history = SyntheticImages.Pipeline(_ml, options).Fit(Data(identities: 9)).LastTransformer.TrainingHistory;
        Assert.Equal(new[] { 1, 2, 3 }, history.Select(h => h.Epoch));
        // 3 of the 9 identities (round(0.34 * 9)) with their 8 images are held out; 6 train.
        Assert.Contains(messages, m => m.Contains("on 48 images of 6 identities") && m.Contains("validating on 24 images of 3 other identities"));
        Assert.All(history, h => Assert.Null(h.ValidationLoss)); // a classifier head has no loss for unseen identities
        Assert.True(history[^1].ValidationAuc > 0.9, $"the held-out identities of easy synthetic data verify well: AUC {history[^1].ValidationAuc}");
    }

    /// <summary>
    /// A validation set so small that the validator scores every pair (2 people x 3 images: 6 same and 9
    /// different pairs): its AUC must equal the all-pairs AUC of the returned model's embeddings.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheValidationFiguresAreThoseOfTheReturnedModel(bool keepBestEpoch)
    {
        var options = Options(epochs: 6);
        options.LearningRate = 0.2; // noisy on purpose, so that the best epoch is not the last
        options.KeepBestEpoch = keepBestEpoch;
        var validationRows = SyntheticImages.Load(_ml, 2, 3, seed: 21);
        options.ValidationData = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(validationRows).Transform(validationRows);
        var model = SyntheticImages.Pipeline(_ml, options).Fit(Data()).LastTransformer;
        var history = model.TrainingHistory;
        var best = history.MaxBy(h => h.ValidationAccuracy!.Value)!;
        Assert.NotEqual(best.Epoch, history[^1].Epoch); // else this test could not tell the two apart
        var faces = _ml.Data.CreateEnumerable<ValidationOutput>(model.Transform(validationRows), reuseRowObject: false).ToList();
        double auc = VerificationMath.AllPairsAuc(faces.Select(f => f.Embedding).ToList(), faces.Select(f => f.Identity).ToList());
        Assert.Equal((keepBestEpoch ? best : history[^1]).ValidationAuc!.Value, auc, 10);
    }

    [Fact]
    public void PairHeadsReportAValidationLoss()
    {
        var options = Options(epochs: 1);
        options.Loss = new TripletLoss.Options();
        var validation = SyntheticImages.Load(_ml, 4, 4, seed: 9);
        // The validation view needs its own key column.
        options.ValidationData = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(validation).Transform(validation);
        var history = SyntheticImages.Pipeline(_ml, options).Fit(Data()).LastTransformer.TrainingHistory;
        Assert.NotNull(history[0].ValidationLoss);
        Assert.True(double.IsFinite(history[0].ValidationLoss!.Value));
    }

    [Fact]
    public void OptionsChangedAfterTheTrainerIsMadeDoNotReachIt()
    {
        var options = Options(epochs: 2);
        var trainer = _ml.FaceRecognition().Trainers.Embedding(options);
        options.Epochs = 5;
        options.EmbeddingSize = 4;
        ((CosFaceLoss.Options)options.Loss).Margin = 0.4;
        var model = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Append(trainer).Fit(Data()).LastTransformer;
        Assert.Equal(2, model.EpochLosses.Count);
        Assert.Equal(8, model.EmbeddingSize);
        Assert.Equal(0.2, ((CosFaceLoss.Options)model.TrainedWith!).Margin);
    }

    [Fact]
    public void EarlyStoppingEndsARunThatNoLongerImproves()
    {
        var options = Options(epochs: 10);
        options.LearningRate = 1e-12; // nothing changes, so no epoch beats the first
        options.ValidationIdentityFraction = 0.34;
        options.EarlyStoppingPatience = 2;
        var history = SyntheticImages.Pipeline(_ml, options).Fit(Data(identities: 9)).LastTransformer.TrainingHistory;
        // The run ends at the first epoch that follows two epochs without a new best accuracy.
        int expected = options.Epochs;
        double best = double.NegativeInfinity;
        int without = 0;
        foreach (var epoch in history)
        {
            if (epoch.ValidationAccuracy > best) { best = epoch.ValidationAccuracy!.Value; without = 0; }
            else if (++without == 2) { expected = epoch.Epoch; break; }
        }
        Assert.True(expected < options.Epochs, "the run should stop early: " + string.Join(", ", history.Select(h => h.ValidationAccuracy)));
        Assert.Equal(expected, history.Count);
    }

    [Theory]
    [InlineData(FaceOptimizer.Sgd, true, LearningRateSchedule.Step)]
    [InlineData(FaceOptimizer.AdamW, false, LearningRateSchedule.Cosine)]
    public void OptimizersAndSchedulesTrain(FaceOptimizer optimizer, bool nesterov, LearningRateSchedule schedule)
    {
        var options = Options(epochs: 3);
        options.Optimizer = optimizer;
        options.LearningRate = optimizer == FaceOptimizer.AdamW ? 1e-3 : 0.05;
        options.Nesterov = nesterov;
        options.LearningRateSchedule = schedule;
        options.LearningRateMilestones = new[] { 2 };
        options.WarmupEpochs = 0.5;
        options.GradientClipNorm = 5;
        var losses = SyntheticImages.Pipeline(_ml, options).Fit(Data()).LastTransformer.EpochLosses;
        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
    }

    [Fact]
    public void SoftmaxWarmupHandsOverToTheMarginHead()
    {
        var messages = new List<string>();
        _ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var options = Options(epochs: 2);
        options.SoftmaxWarmupEpochs = 1;
        options.Loss = new ArcFaceLoss.Options();
        var model = SyntheticImages.Pipeline(_ml, options).Fit(Data());
        Assert.Contains(messages, m => m.Contains("Softmax warm-up done"));
        Assert.IsType<ArcFaceLoss.Options>(model.LastTransformer.TrainedWith);
    }

    [Fact]
    public void ValidationDataWithoutSameIdentityPairsIsRefusedWithTheCure()
    {
        var options = Options(epochs: 1);
        var single = SyntheticImages.Load(_ml, 3, 1, seed: 4); // three people, one image each
        options.ValidationData = _ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(single).Transform(single);
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(_ml, options).Fit(Data()));
        Assert.Contains("0 same-identity pairs", error.Message);
        Assert.Contains("more images per identity", error.Message);
    }

    [Fact]
    public void StreamingTrainingReadsTheDataEachEpochAndLearns()
    {
        var options = Options(epochs: 3);
        options.InMemory = false;
        var counting = new CursorCountingDataView(_ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Fit(Data()).Transform(Data()));
        var model = _ml.FaceRecognition().Trainers.Embedding(options).Fit(counting);
        var losses = model.EpochLosses;
        Assert.Equal(3, losses.Count);
        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
        // One pass over the labels alone, one over the pixels in every epoch, and two over the first
        // batch only: the centring check before training and the collapse check after it.
        Assert.Equal(3 + 2, counting.CursorsWithColumn("Features"));
        Assert.Equal(1 + 3 + 2, counting.CursorsWithColumn("Label"));
    }

    [Fact]
    public void StreamingTrainingHoldsOutIdentitiesForValidation()
    {
        var messages = new List<string>();
        _ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var options = Options(epochs: 2);
        options.InMemory = false;
        options.ValidationIdentityFraction = 0.34;
        var history = SyntheticImages.Pipeline(_ml, options).Fit(Data(identities: 9)).LastTransformer.TrainingHistory;
        Assert.Contains(messages, m => m.Contains("on 48 images of 6 identities") && m.Contains("validating on 24 images of 3 other identities"));
        Assert.All(history, h => Assert.InRange(h.ValidationAccuracy!.Value, 0.5, 1.0));
    }

    [Fact]
    public void PairHeadsRefuseStreaming()
    {
        var options = Options();
        options.InMemory = false;
        options.Loss = new TripletLoss.Options();
        var error = Assert.Throws<ArgumentException>(() => _ml.FaceRecognition().Trainers.Embedding(options));
        Assert.Contains("InMemory", error.Message);
    }

    [Fact]
    public void ACustomBackboneTrainsAndSurvivesSaveAndLoad()
    {
        var options = Options(epochs: 2);
        options.CustomBackbone = new LinearBackbone { Settings = "4" };
        var data = Data();
        var model = SyntheticImages.Pipeline(_ml, options).Fit(data);
        Assert.Equal(FaceBackbone.Custom, model.LastTransformer.Backbone);
        string path = Path.Combine(Path.GetTempPath(), $"faceloss-custom-{Guid.NewGuid():N}.zip");
        try
        {
            _ml.Model.Save(model, data.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _);
            Assert.Equal(Embed(model), Embed(loaded));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AGpuRequestFallsBackToTheCpuWhenAllowed()
    {
        // Device 1000 exists nowhere: without CUDA the backend is missing, with CUDA the device is.
        var messages = new List<string>();
        var ml = new MLContext(seed: 1) { GpuDeviceId = 1000, FallbackToCpu = true };
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        SyntheticImages.Pipeline(ml, Options(epochs: 1)).Fit(SyntheticImages.Load(ml));
        Assert.Contains(messages, m => m.Contains("FallbackToCpu"));

        var strict = new MLContext(seed: 1) { GpuDeviceId = 1000, FallbackToCpu = false };
        var error = Assert.Throws<InvalidOperationException>(() => SyntheticImages.Pipeline(strict, Options(epochs: 1)).Fit(SyntheticImages.Load(strict)));
        Assert.Contains("FallbackToCpu", error.Message);
    }

    [Fact]
    public void TheThreadCountIsSetForTrainingAndRestoredAfter()
    {
        int before = get_num_threads();
        var options = Options(epochs: 1);
        options.NumberOfThreads = 1;
        int during = 0;
        options.Progress = new ProgressCallback(_ => during = get_num_threads());
        SyntheticImages.Pipeline(_ml, options).Fit(Data());
        Assert.Equal(1, during);
        Assert.Equal(before, get_num_threads());
    }

    private sealed class Output
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private sealed class ValidationOutput
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public string Identity { get; set; } = "";
    }

    /// <summary>A data view that counts the cursors opened over it, by the columns they read.</summary>
    private sealed class CursorCountingDataView(IDataView inner) : IDataView
    {
        private readonly List<string[]> _cursors = new();

        public int CursorsWithColumn(string name)
        {
            lock (_cursors) return _cursors.Count(c => c.Contains(name));
        }

        public bool CanShuffle => inner.CanShuffle;

        public DataViewSchema Schema => inner.Schema;

        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var columns = columnsNeeded.ToList();
            lock (_cursors) _cursors.Add(columns.Select(c => c.Name).ToArray());
            return inner.GetRowCursor(columns, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => new[] { GetRowCursor(columnsNeeded, rand) };
    }
}

/// <summary>A backbone of a user's: flatten, then Linear - ReLU - Linear with the hidden width in <see cref="BackboneFactory.Settings"/>.</summary>
public sealed class LinearBackbone : BackboneFactory
{
    public override nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int embeddingSize)
    {
        int hidden = int.Parse(Settings);
        return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, hidden), nn.ReLU(), nn.Linear(hidden, embeddingSize));
    }
}
