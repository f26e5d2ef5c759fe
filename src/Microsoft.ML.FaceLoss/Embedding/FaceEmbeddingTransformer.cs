using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.DataViews;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.Embedding;

/// <summary>
/// Adds a known-size, L2-normalized embedding column (by default <c>Embedding</c>, a
/// <c>Vector&lt;Single, D&gt;</c>) to any <see cref="IDataView"/> that has the feature column the
/// network was trained on. Over a data view it embeds rows in batches of
/// <see cref="InferenceBatchSize"/>; it also serves <c>PredictionEngine</c>, and one instance may
/// be used from many threads at once. Made by <see cref="Training.FaceEmbeddingTrainer"/>; saved
/// and loaded with <c>mlContext.Model.Save</c> and <c>mlContext.Model.Load</c>.
/// </summary>
public sealed class FaceEmbeddingTransformer : RowMappingTransformer, ILoadableTransformer<FaceEmbeddingTransformer>, IFaceModelStep, IDisposable
{
    internal const string LoaderSignature = "FaceEmbeddingTransform";
    private static readonly TransformerFormat SavedFormat = new("FACEEMBD", LoaderSignature, typeof(FaceEmbeddingTransformer));
    private const string NetworkStream = "FaceEmbeddingNetwork.bin";
    private const int NetworkFormatVersion = 1;

    private readonly FaceLossOptions? _trainedWith;

    internal FaceEmbeddingTransformer(string featureColumnName, string outputColumnName, EmbeddingNetwork network,
        FaceLossOptions? trainedWith, int inferenceBatchSize, bool flipTest = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(featureColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentOutOfRangeException.ThrowIfLessThan(inferenceBatchSize, 1);
        FeatureColumnName = featureColumnName;
        OutputColumnName = outputColumnName;
        Network = network;
        _trainedWith = trainedWith?.Clone();
        InferenceBatchSize = inferenceBatchSize;
        FlipTest = flipTest;
    }

    /// <summary>The input column: a known-size vector of <see cref="float"/> with C x H x W values, planar, as <c>ExtractPixels</c> writes it.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The added column of L2-normalized embeddings.</summary>
    public string OutputColumnName { get; }

    /// <summary>The length D of one embedding.</summary>
    public int EmbeddingSize => Network.Config.EmbeddingSize;

    /// <summary>The number of colour channels C of the input images.</summary>
    public int ImageChannels => Network.Config.Channels;

    /// <summary>The height H of the input images, in pixels.</summary>
    public int ImageHeight => Network.Config.Height;

    /// <summary>The width W of the input images, in pixels.</summary>
    public int ImageWidth => Network.Config.Width;

    /// <summary>The backbone network.</summary>
    public FaceBackbone Backbone => Network.Config.Backbone;

    /// <summary>How many rows one forward pass embeds when transforming a data view.</summary>
    public int InferenceBatchSize { get; }

    /// <summary>
    /// Whether each image is embedded with its mirror image: normalize(f(x) + f(flip(x))), the
    /// insightface evaluation convention ("flip test"). Default: false.
    /// </summary>
    public bool FlipTest { get; }

    /// <summary>
    /// A transformer with the same network that reads <paramref name="featureColumnName"/> and writes
    /// <paramref name="outputColumnName"/>, for example to embed the second image column of pairs;
    /// <paramref name="flipTest"/> null keeps <see cref="FlipTest"/>. The network is shared: it lives
    /// as long as this transformer, which disposes it.
    /// </summary>
    public FaceEmbeddingTransformer WithColumns(string featureColumnName, string outputColumnName, bool? flipTest = null)
        => new(featureColumnName, outputColumnName, Network, _trainedWith, InferenceBatchSize, flipTest ?? FlipTest) { _sharesNetwork = true };

    /// <summary>This transformer with the flip test on or off.</summary>
    public FaceEmbeddingTransformer WithFlipTest(bool flipTest = true) => WithColumns(FeatureColumnName, OutputColumnName, flipTest);

    private bool _sharesNetwork;

    /// <summary>The loss head (name and parameters) that trained the network, or null when unknown.</summary>
    public FaceLossOptions? TrainedWith => _trainedWith?.Clone();

    internal EmbeddingNetwork Network { get; }

    internal int InputLength => Network.Config.InputLength;

    private protected override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new EmbeddingColumnSource(this, inputSchema);

    /// <summary>Embeds one image given as C x H x W planar values; returns the L2-normalized embedding.</summary>
    public float[] Embed(ReadOnlySpan<float> pixels)
    {
        if (pixels.Length != InputLength)
            throw new ArgumentException($"An image must have {InputLength} values (C x H x W = {ImageChannels} x {ImageHeight} x {ImageWidth}), got {pixels.Length}.", nameof(pixels));
        CheckFinite(pixels, 0);
        var embedding = new float[EmbeddingSize];
        Network.Embed(pixels, 1, embedding, FlipTest);
        return embedding;
    }

    /// <summary>
    /// The backbone's raw feature vector of one image, before L2 normalization: its direction is the
    /// embedding, its norm carries what norm-aware heads (MagFace, AdaFace) teach it, and 2-D features
    /// (LeNet++) show the pictures of the papers.
    /// </summary>
    public float[] Features(ReadOnlySpan<float> pixels)
    {
        if (pixels.Length != InputLength)
            throw new ArgumentException($"An image must have {InputLength} values (C x H x W = {ImageChannels} x {ImageHeight} x {ImageWidth}), got {pixels.Length}.", nameof(pixels));
        CheckFinite(pixels, 0);
        var features = new float[EmbeddingSize];
        Network.Features(pixels.ToArray(), 1, features);
        return features;
    }

    private protected override TransformerFormat Format => SavedFormat;

    static TransformerFormat ILoadableTransformer<FaceEmbeddingTransformer>.SavedFormat => SavedFormat;

    // *** Binary format ***
    // string: feature column; string: output column; int: inference batch size; bool: flip test
    // stream FaceEmbeddingNetwork.bin: ModelStreamFormat { loss options; network config; weights }
    private protected override void Write(ModelWriter writer)
    {
        writer.WriteString(FeatureColumnName);
        writer.WriteString(OutputColumnName);
        writer.Writer.Write(InferenceBatchSize);
        writer.Writer.Write(FlipTest);
        writer.WriteStream(NetworkStream, NetworkFormatVersion, payload =>
        {
            LossOptionsSerializer.Write(payload, _trainedWith);
            Network.Write(payload);
        });
    }

    static FaceEmbeddingTransformer ILoadableTransformer<FaceEmbeddingTransformer>.Read(ModelReader reader)
    {
        string feature = reader.ReadString();
        string output = reader.ReadString();
        int batchSize = reader.Reader.ReadInt32();
        bool flipTest = reader.Reader.ReadBoolean();
        var (loss, network) = reader.ReadStream(NetworkStream, "face embedding network", NetworkFormatVersion,
            (payload, _) => (LossOptionsSerializer.Read(payload), EmbeddingNetwork.Read(payload)));
        return new FaceEmbeddingTransformer(feature, output, network, loss, batchSize, flipTest);
    }

    /// <summary>Releases the network's native memory (unless this transformer shares another's network, see <see cref="WithColumns"/>).</summary>
    public void Dispose()
    {
        if (!_sharesNetwork) Network.Dispose();
    }

    /// <summary>What each training epoch achieved (loss, validation figures), in order; empty for a transformer loaded from a file.</summary>
    public IReadOnlyList<EpochSummary> TrainingHistory { get; internal init; } = Array.Empty<EpochSummary>();

    /// <summary>The mean training loss of each epoch, in order; empty for a transformer loaded from a file.</summary>
    public IReadOnlyList<double> EpochLosses => TrainingHistory.Select(e => e.Loss).ToList();

    /// <summary>Finds the feature column and checks its type; returns its index.</summary>
    internal int CheckFeatureColumn(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no feature column '{FeatureColumnName}'; it must hold Vector<Single, {ImageChannels}, {ImageHeight}, {ImageWidth}> pixels (ExtractPixels writes this).");
        if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || vector.Size != InputLength)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for feature column '{FeatureColumnName}': expected Vector<Single> of known size {InputLength} (C x H x W = {ImageChannels} x {ImageHeight} x {ImageWidth}), got {column.Type}. Resize the images to {ImageWidth} x {ImageHeight} and extract {ImageChannels} channel(s).");
        return column.Index;
    }

    /// <summary>
    /// Copies one feature vector into a dense buffer, refusing NaN and infinite values. A missing image
    /// (ExtractPixels writes an empty sparse vector for it: AlignFaces found no face, for example) is
    /// copied as NaN values, which <see cref="EmbedRows"/> turns into a NaN embedding.
    /// </summary>
    internal void CopyPixels(in VBuffer<float> source, Span<float> destination, long row)
    {
        if (source.Length != InputLength)
            throw new InvalidOperationException($"Row {row} of column '{FeatureColumnName}' has {source.Length} values; {InputLength} expected.");
        if (IsMissingImage(source))
        {
            destination.Slice(0, InputLength).Fill(float.NaN);
            return;
        }
        source.CopyTo(destination.Slice(0, InputLength));
        CheckFinite(destination.Slice(0, InputLength), row);
    }

    /// <summary>Whether a feature vector stands for a missing image: sparse with no stored value.</summary>
    private static bool IsMissingImage(in VBuffer<float> source) => !source.IsDense && source.GetValues().Length == 0;

    /// <summary>
    /// Embeds <paramref name="count"/> rows copied by <see cref="CopyPixels"/>; a missing image (its
    /// pixels NaN) gets an embedding of NaN values, ML.NET's missing value, instead of a face's.
    /// </summary>
    internal void EmbedRows(float[] rows, int count, Span<float> embeddings)
    {
        int length = InputLength, size = EmbeddingSize;
        List<int>? missing = null;
        for (int i = 0; i < count; i++)
        {
            if (!float.IsNaN(rows[i * length])) continue;
            (missing ??= new()).Add(i);
            Array.Clear(rows, i * length, length);
        }
        Network.Embed(rows, count, embeddings, FlipTest);
        if (missing is null) return;
        foreach (int i in missing) embeddings.Slice(i * size, size).Fill(float.NaN);
    }

    private void CheckFinite(ReadOnlySpan<float> pixels, long row)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            if (!float.IsFinite(pixels[i]))
                throw new InvalidOperationException($"Row {row} of column '{FeatureColumnName}' holds a non-finite value ({pixels[i]}) at index {i}. Check the image and the pixel scaling (ExtractPixels scaleImage/offsetImage).");
        }
    }
}
