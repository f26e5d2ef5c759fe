using System.Numerics.Tensors;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>
/// Scores normalized probes against a gallery of normalized embeddings (rows x D): for each probe the
/// best rows, best first. Where the application holds Microsoft.ML.FaceLoss (and so LibTorch), the
/// search is its matrix product and top-k (<c>TorchGallerySearch</c>); otherwise a managed one.
/// </summary>
internal abstract class GallerySearch
{
    private const string TorchSearchType = "Microsoft.ML.FaceLoss.Verification.TorchGallerySearch, Microsoft.ML.FaceLoss";

    /// <summary>The LibTorch search's type, looked up once: null in an application without Microsoft.ML.FaceLoss.</summary>
    private static readonly Lazy<Type?> Accelerated = new(() =>
    {
        try { return Type.GetType(TorchSearchType, throwOnError: false); }
        catch (IOException) { return null; }      // the assembly is listed but cannot be loaded
        catch (BadImageFormatException) { return null; }
    });

    /// <summary>The fastest search this application has over <paramref name="gallery"/> (its memory is shared, not copied).</summary>
    public static GallerySearch Create(float[] gallery, int rows, int dimension)
        => Accelerated.Value is { } type
            ? (GallerySearch)Activator.CreateInstance(type, gallery, rows, dimension)!
            : new ManagedGallerySearch(gallery, rows, dimension);

    /// <summary>
    /// Writes for each of <paramref name="count"/> normalized probes its <paramref name="candidates"/>
    /// best rows and their cosine scores, best first, to <paramref name="rows"/> and <paramref name="scores"/>.
    /// </summary>
    public abstract void Search(float[] probes, int count, int candidates, float[] scores, long[] rows);
}

/// <summary>
/// The search without LibTorch: blocks of probes against each gallery row (the row is read once per
/// block), dot products with <see cref="TensorPrimitives"/>, a bounded selection of the best rows per
/// probe, probe blocks in parallel. Equal scores keep the lower row first.
/// </summary>
internal sealed class ManagedGallerySearch : GallerySearch
{
    private const int ProbeBlock = 8;

    private readonly float[] _gallery;
    private readonly int _rows;
    private readonly int _dimension;

    public ManagedGallerySearch(float[] gallery, int rows, int dimension)
    {
        _gallery = gallery;
        _rows = rows;
        _dimension = dimension;
    }

    public override void Search(float[] probes, int count, int candidates, float[] scores, long[] rows)
    {
        int blocks = (count + ProbeBlock - 1) / ProbeBlock;
        Parallel.For(0, blocks, block =>
        {
            int first = block * ProbeBlock, size = Math.Min(ProbeBlock, count - first);
            var best = new BestRows[size];
            for (int p = 0; p < size; p++) best[p] = new BestRows(candidates);
            for (int row = 0; row < _rows; row++)
            {
                var galleryRow = _gallery.AsSpan(row * _dimension, _dimension);
                for (int p = 0; p < size; p++)
                    best[p].Offer(TensorPrimitives.Dot(probes.AsSpan((first + p) * _dimension, _dimension), galleryRow), row);
            }
            for (int p = 0; p < size; p++)
                best[p].WriteTo(scores.AsSpan((first + p) * candidates, candidates), rows.AsSpan((first + p) * candidates, candidates));
        });
    }

    /// <summary>The k best (score, row) pairs seen, kept in a min-heap on the score (the lower row wins a tie).</summary>
    private sealed class BestRows
    {
        private readonly PriorityQueue<int, (float Score, int Row)> _heap;
        private readonly int _capacity;

        public BestRows(int capacity)
        {
            _capacity = capacity;
            // The worst at the top: the lowest score, and of equal scores the highest row.
            _heap = new PriorityQueue<int, (float, int)>(capacity + 1, Comparer<(float Score, int Row)>.Create(
                (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Row.CompareTo(a.Row)));
        }

        public void Offer(float score, int row)
        {
            if (_heap.Count < _capacity) { _heap.Enqueue(row, (score, row)); return; }
            _heap.TryPeek(out _, out var worst);
            if (score > worst.Score) _heap.EnqueueDequeue(row, (score, row));
        }

        public void WriteTo(Span<float> scores, Span<long> rows)
        {
            for (int i = _heap.Count - 1; i >= 0; i--)
            {
                _heap.TryDequeue(out int row, out var key);
                scores[i] = key.Score;
                rows[i] = row;
            }
        }
    }
}
