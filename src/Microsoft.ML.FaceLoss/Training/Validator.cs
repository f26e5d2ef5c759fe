using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// Validation after each epoch on identities not trained on: all-pairs verification (every same pair
/// and as many different pairs, a seeded sample, so chance is 50%) of at most 3,000 images, and for
/// pair and triplet heads their loss on identity-balanced batches.
/// </summary>
internal sealed class Validator
{
    private const int MaximumImages = 3000, Chunk = 128;
    private readonly TrainingData _data;
    private readonly DataSettings _settings;
    private readonly FaceLossOptions _loss;
    private readonly int _seed;

    public Validator(TrainingData data, DataSettings settings, FaceLossOptions loss, int seed)
    {
        var sizes = data.Labels.GroupBy(l => l).Select(g => (long)g.Count()).ToList();
        if (sizes.Count < 2 || sizes.Sum(n => n * (n - 1) / 2) < 2)
            throw new InvalidOperationException(
                $"The validation data has {sizes.Count} identities and {sizes.Sum(n => n * (n - 1) / 2)} same-identity pairs; verification needs at least " +
                "2 identities and 2 such pairs (2 images of one person, or one pair each of two). Give more images per identity, or more identities.");
        _data = data;
        _settings = settings;
        _loss = loss;
        _seed = seed;
    }

    /// <summary>The number of validation images.</summary>
    public int Images => _data.Count;

    /// <summary>The number of validation identities.</summary>
    public int Identities => _data.Labels.Distinct().Count();

    /// <summary>Verification accuracy and AUC of the network, and the head's loss where it has one for unseen identities.</summary>
    public (double Accuracy, double Auc, double? Loss) Validate(EmbeddingNetwork network, FaceLossHead head)
    {
        var rows = Enumerable.Range(0, _data.Count).ToArray();
        if (rows.Length > MaximumImages)
        {
            new Random(_seed).Shuffle(rows);
            rows = rows.Take(MaximumImages).Order().ToArray();
        }
        int size = network.Config.EmbeddingSize;
        var embeddings = new List<float[]>();
        var buffer = new float[Chunk * size];
        for (int start = 0; start < rows.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, rows.Length - start);
            network.Embed(RowGather.Copy(_data.Pixels, _data.InputLength, rows.AsSpan(start, count)), count, buffer);
            for (int i = 0; i < count; i++) embeddings.Add(buffer.AsSpan(i * size, size).ToArray());
        }
        double? loss = _loss.HasClassWeights ? null : PairHeadLoss(network, head);
        network.Module.train();
        head.train();

        var (scores, same) = PairScoreMath.AllPairs(embeddings, rows.Select(r => _data.Labels[r]).ToList());
        var sameRows = Enumerable.Range(0, scores.Count).Where(i => same[i]).ToList();
        var differentRows = Enumerable.Range(0, scores.Count).Where(i => !same[i]).ToArray();
        new Random(_seed).Shuffle(differentRows);
        var chosen = sameRows.Concat(differentRows.Take(Math.Max(sameRows.Count, 10))).Order().ToList();
        // Ten folds, fewer where there are fewer pairs of a kind: every fold needs a same and a different pair.
        int folds = Math.Clamp(Math.Min(sameRows.Count, chosen.Count - sameRows.Count), 2, 10);
        var metrics = VerificationMetrics.Compute(chosen.Select(i => scores[i]).ToList(), chosen.Select(i => same[i]).ToList(), folds: null, foldCount: folds);
        return (metrics.Accuracy, metrics.Auc, loss);
    }

    /// <summary>The pair or triplet head's mean loss on identity-balanced batches of the validation images.</summary>
    private double? PairHeadLoss(EmbeddingNetwork network, FaceLossHead head)
    {
        var groups = _data.Labels.GroupBy(l => l).ToList();
        if (groups.Count < 2 || groups.Any(g => g.Count() < 2)) return null;
        var config = network.Config;
        var sampler = new IdentityBalancedSampler(_data.Labels, Math.Max(2, _settings.BatchSize / _settings.ImagesPerIdentity), _settings.ImagesPerIdentity, _loss.HeadName);
        network.Module.eval();
        head.eval();
        double sum = 0;
        int count = 0;
        using var noGrad = no_grad();
        foreach (var batch in sampler.Epoch(new Random(_seed)))
        {
            using var scope = NewDisposeScope();
            var x = tensor(RowGather.Copy(_data.Pixels, _data.InputLength, batch), new long[] { batch.Length, config.Channels, config.Height, config.Width }).to(network.Device);
            var y = tensor(batch.Select(r => (long)_data.Labels[r]).ToArray()).to(network.Device);
            sum += head.forward(network.Module.forward(x), y).ToDouble();
            count++;
        }
        return count == 0 ? null : sum / count;
    }
}
