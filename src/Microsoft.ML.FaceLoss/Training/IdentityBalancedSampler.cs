using System.Runtime.InteropServices;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>
/// P x K batches (FaceNet, "In defense of the triplet loss"): P identities with K images each, so
/// that every anchor has positives and negatives, and every image appears at least once an epoch.
/// Each identity's shuffled images are cut into groups of K (a short last group is filled with other
/// images of the same identity); the groups are dealt in rounds (one group of each identity that
/// still has one, in a shuffled order each round), and the sequence is cut P groups at a time. Every
/// epoch therefore has the same number of batches, ceil(groups / P), and P distinct identities in
/// each batch wherever the data allows it (near the end of an epoch an identity with many more
/// images than the others may meet itself). A last batch of a single identity gets a group of
/// another identity, so that it has negatives too.
/// </summary>
internal sealed class IdentityBalancedSampler : BatchSampler
{
    private readonly int[][] _rowsByIdentity;
    private readonly int _identitiesPerBatch;
    private readonly int _imagesPerIdentity;
    private readonly int _groups;

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
        _groups = _rowsByIdentity.Sum(rows => (rows.Length + imagesPerIdentity - 1) / imagesPerIdentity);
    }

    /// <inheritdoc />
    public override int BatchesPerEpoch => (_groups + _identitiesPerBatch - 1) / _identitiesPerBatch;

    public override List<int[]> Epoch(Random random)
    {
        int k = _imagesPerIdentity;
        var groupsOf = new List<int[]>[_rowsByIdentity.Length];
        for (int identity = 0; identity < _rowsByIdentity.Length; identity++)
        {
            var rows = _rowsByIdentity[identity].ToArray();
            random.Shuffle(rows);
            groupsOf[identity] = new List<int[]>();
            for (int start = 0; start < rows.Length; start += k)
            {
                var group = rows.Skip(start).Take(k).ToList();
                // Fill a short group with the identity's other images, repeating only when it has fewer than K.
                var others = rows.Except(group).ToArray();
                random.Shuffle(others);
                for (int i = 0; group.Count < Math.Min(k, rows.Length) && i < others.Length; i++) group.Add(others[i]);
                while (group.Count < k) group.Add(rows[random.Next(rows.Length)]);
                groupsOf[identity].Add(group.ToArray());
            }
        }

        // Deal the groups in rounds, so that one identity's groups are spread over the epoch.
        var sequence = new List<(int Identity, int[] Rows)>(_groups);
        for (int round = 0; sequence.Count < _groups; round++)
        {
            var dealt = Enumerable.Range(0, groupsOf.Length).Where(i => round < groupsOf[i].Count).ToArray();
            random.Shuffle(dealt);
            foreach (int identity in dealt) sequence.Add((identity, groupsOf[identity][round]));
        }

        var batches = new List<int[]>(BatchesPerEpoch);
        for (int start = 0; start < sequence.Count; start += _identitiesPerBatch)
        {
            var members = CollectionsMarshal.AsSpan(sequence).Slice(start, Math.Min(_identitiesPerBatch, sequence.Count - start)).ToArray().ToList();
            if (members.All(m => m.Identity == members[0].Identity))
            {
                // A batch of one identity has no negatives: add a group of another identity.
                int other = random.Next(groupsOf.Length - 1);
                if (other >= members[0].Identity) other++;
                members.Add((other, groupsOf[other][random.Next(groupsOf[other].Count)]));
            }
            batches.Add(members.SelectMany(m => m.Rows).ToArray());
        }
        return batches;
    }
}
