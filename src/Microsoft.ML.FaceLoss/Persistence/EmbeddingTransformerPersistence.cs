using Microsoft.ML;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceEmbeddingTransformer), typeof(EmbeddingTransformerPersistence), null, typeof(SignatureLoadModel),
    "Face Embedding Transformer", EmbeddingTransformerPersistence.LoaderSignature)]

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// Saves a <see cref="FaceEmbeddingTransformer"/> into an ML.NET model file and loads it back.
/// ML.NET finds the loader through the <c>LoadableClass</c> attribute of this assembly, whose name
/// the model file records, so <c>mlContext.Model.Load</c> works in a fresh process with no
/// registration call. Persistence/ is the one place that uses ML.NET's internal model-file API.
/// </summary>
internal static class EmbeddingTransformerPersistence
{
    internal const string LoaderSignature = "FaceEmbeddingTransform";
    private const string NetworkStream = "FaceEmbeddingNetwork.bin";
    private const int NetworkFormatVersion = 1;

    private static VersionInfo Version => new(
        modelSignature: "FACEEMBD",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(EmbeddingTransformerPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, FaceEmbeddingTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        // *** Binary format ***
        // string: feature column; string: output column; int: inference batch size; bool: flip test
        // stream FaceEmbeddingNetwork.bin: ModelStreamFormat { loss options; network config; weights }
        ctx.SaveNonEmptyString(transformer.FeatureColumnName);
        ctx.SaveNonEmptyString(transformer.OutputColumnName);
        ctx.Writer.Write(transformer.InferenceBatchSize);
        ctx.Writer.Write(transformer.FlipTest);
        ctx.SaveBinaryStream(NetworkStream, writer => ModelStreamFormat.Write(writer, NetworkFormatVersion, payload =>
        {
            LossOptionsSerializer.Write(payload, transformer.TrainedWithInternal);
            transformer.Network.Write(payload);
        }));
    }

    // Factory method for SignatureLoadModel.
    private static FaceEmbeddingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(Version);
        string feature = ctx.LoadNonEmptyString();
        string output = ctx.LoadNonEmptyString();
        int batchSize = ctx.Reader.ReadInt32();
        bool flipTest = ctx.Reader.ReadBoolean();
        (Losses.FaceLossOptions? Loss, EmbeddingNetwork Network)? loaded = null;
        bool found = ctx.TryLoadBinaryStream(NetworkStream, reader =>
            loaded = ModelStreamFormat.Read(reader, "face embedding network", NetworkFormatVersion,
                (payload, _) => (LossOptionsSerializer.Read(payload), EmbeddingNetwork.Read(payload))));
        if (!found || loaded is null)
            throw new InvalidDataException($"The model has no '{NetworkStream}' stream for its face embedding transformer; the file is incomplete.");
        return new FaceEmbeddingTransformer(feature, output, loaded.Value.Network, loaded.Value.Loss, batchSize, flipTest);
    }
}
