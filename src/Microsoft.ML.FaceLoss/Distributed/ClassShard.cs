namespace Microsoft.ML.FaceLoss.Distributed;

/// <summary>The identities one rank holds the class weights of: [<see cref="First"/>, <see cref="First"/> + <see cref="Count"/>).</summary>
/// <param name="First">The first identity (0-based label) of the shard.</param>
/// <param name="Count">The number of identities in the shard.</param>
internal readonly record struct ClassShard(int First, int Count)
{
    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="classCount"/> identities split into <paramref name="ranks"/> contiguous shards whose sizes differ by at most one.</summary>
    /// <exception cref="InvalidOperationException">There are fewer identities than ranks.</exception>
    public static ClassShard Of(int classCount, int rank, int ranks)
    {
        if (classCount < ranks)
            throw new InvalidOperationException(
                $"{classCount} identities cannot be sharded across {ranks} ranks: every rank needs at least one. Use fewer ranks, or ShardClassWeights = false.");
        int first = (int)((long)classCount * rank / ranks), end = (int)((long)classCount * (rank + 1) / ranks);
        return new ClassShard(first, end - first);
    }

    /// <inheritdoc />
    public override string ToString() => $"identities {First} to {First + Count - 1}";
}
