namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Decides which rows form each training batch of an epoch.</summary>
internal abstract class BatchSampler
{
    /// <summary>The batches of one epoch, each a list of row indices; every batch has at least two rows.</summary>
    public abstract List<int[]> Epoch(Random random);

    /// <summary>The sampler the head needs: identity-balanced for pair and triplet heads, shuffled otherwise.</summary>
    public static BatchSampler For(FaceEmbeddingTrainer.Options options, int[] labels)
        => options.Loss.NeedsIdentityBalancedBatches
            ? new IdentityBalancedSampler(labels, Math.Max(2, options.BatchSize / options.ImagesPerIdentity), options.ImagesPerIdentity, options.Loss.HeadName)
            : new ShuffledSampler(labels.Length, options.BatchSize);
}

/// <summary>Shuffles all rows each epoch and cuts them into batches; a last batch of one row is dropped (batch normalisation needs two).</summary>
internal sealed class ShuffledSampler : BatchSampler
{
    private readonly int _count;
    private readonly int _batchSize;

    public ShuffledSampler(int count, int batchSize)
    {
        _count = count;
        _batchSize = Math.Min(batchSize, count);
    }

    public override List<int[]> Epoch(Random random)
    {
        // From the same start every epoch: an epoch's batches depend on its generator only, so a resumed run repeats them.
        var order = Enumerable.Range(0, _count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        for (int start = 0; start + 2 <= order.Length; start += _batchSize)
            batches.Add(order.AsSpan(start, Math.Min(_batchSize, order.Length - start)).ToArray());
        return batches;
    }
}

/// <summary>
/// P x K batches (FaceNet, "In defense of the triplet loss"): P identities with K images each, so
/// that every anchor has positives and negatives. Each epoch every image appears at least once:
/// an identity's shuffled images are cut into groups of K (a short last group is filled with other
/// images of the same identity), and groups of distinct identities are packed P at a time.
/// </summary>
internal sealed class IdentityBalancedSampler : BatchSampler
{
    private readonly int[][] _rowsByIdentity;
    private readonly int _identitiesPerBatch;
    private readonly int _imagesPerIdentity;

    public IdentityBalancedSampler(int[] labels, int identitiesPerBatch, int imagesPerIdentity, string headName)
    {
        _identitiesPerBatch = identitiesPerBatch;
        _imagesPerIdentity = imagesPerIdentity;
        var groups = Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).ToList();
        var single = groups.Where(g => g.Count() < 2).ToList();
        if (single.Count > 0)
            throw new InvalidOperationException(
                $"The {headName} head trains on pairs of images of one identity, but {single.Count} of {groups.Count} identities have a single image " +
                $"(for example label {single[0].Key + 1}). Keep identities with at least 2 images, for example with ImageFolderOptions.MinimumImagesPerIdentity = 2.");
        if (groups.Count < 2)
            throw new InvalidOperationException($"The {headName} head needs at least 2 identities with at least 2 images each; the data has {groups.Count}.");
        _rowsByIdentity = groups.Select(g => g.ToArray()).ToArray();
    }

    public override List<int[]> Epoch(Random random)
    {
        int k = _imagesPerIdentity;
        var chunks = new List<(int Identity, int[] Rows)>();
        for (int identity = 0; identity < _rowsByIdentity.Length; identity++)
        {
            var rows = _rowsByIdentity[identity].ToArray();
            random.Shuffle(rows);
            for (int start = 0; start < rows.Length; start += k)
            {
                var chunk = rows.Skip(start).Take(k).ToList();
                // Fill a short group with the identity's other images, repeating only when it has fewer than K.
                var others = rows.Except(chunk).ToArray();
                random.Shuffle(others);
                for (int i = 0; chunk.Count < Math.Min(k, rows.Length) && i < others.Length; i++) chunk.Add(others[i]);
                while (chunk.Count < k) chunk.Add(rows[random.Next(rows.Length)]);
                chunks.Add((identity, chunk.ToArray()));
            }
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chunks));

        var batches = new List<int[]>();
        var pending = new LinkedList<(int Identity, int[] Rows)>(chunks);
        while (pending.Count > 0)
        {
            var identities = new HashSet<int>();
            var batch = new List<int>();
            for (var node = pending.First; node is not null && identities.Count < _identitiesPerBatch;)
            {
                var next = node.Next;
                if (identities.Add(node.Value.Identity))
                {
                    batch.AddRange(node.Value.Rows);
                    pending.Remove(node);
                }
                node = next;
            }
            if (identities.Count >= 2) batches.Add(batch.ToArray());
        }
        return batches;
    }
}
