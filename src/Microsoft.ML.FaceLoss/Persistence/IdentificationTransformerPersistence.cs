using Microsoft.ML;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceIdentificationTransformer), typeof(IdentificationTransformerPersistence), null, typeof(SignatureLoadModel),
    "Face Identification Transformer", IdentificationTransformerPersistence.LoaderSignature)]

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>Saves a <see cref="FaceIdentificationTransformer"/>, gallery included, into an ML.NET model file and loads it back.</summary>
internal static class IdentificationTransformerPersistence
{
    internal const string LoaderSignature = "FaceIdentifyTransform";
    private const string GalleryStream = "FaceGallery.bin";
    private const int GalleryFormatVersion = 1;

    private static VersionInfo Version => new(
        modelSignature: "FACEIDNT",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(IdentificationTransformerPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, FaceIdentificationTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        // *** Binary format ***
        // stream FaceGallery.bin: ModelStreamFormat { options; embedding size; identities; gallery rows }
        ctx.SaveBinaryStream(GalleryStream, writer => ModelStreamFormat.Write(writer, GalleryFormatVersion, w =>
        {
            var o = transformer.Options;
            foreach (var name in new[] { o.EmbeddingColumnName, o.IdentityColumnName, o.PredictedIdentityColumnName, o.ScoreColumnName, o.TopIdentitiesColumnName, o.TopScoresColumnName, o.UnknownIdentity })
                w.Write(name);
            w.Write(o.TopK);
            w.Write(o.BatchSize);
            w.Write(o.RejectionThreshold.HasValue);
            w.Write(o.RejectionThreshold ?? 0);
            w.Write(transformer.EmbeddingSize);
            w.Write(transformer.Identities.Count);
            foreach (var identity in transformer.Identities) w.Write(identity);
            w.Write(transformer.GallerySize);
            foreach (int id in transformer.RowIdentities) w.Write(id);
            foreach (float v in transformer.GalleryValues) w.Write(v);
        }));
    }

    // Factory method for SignatureLoadModel.
    private static FaceIdentificationTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(Version);
        FaceIdentificationTransformer? result = null;
        bool found = ctx.TryLoadBinaryStream(GalleryStream, reader => result = ModelStreamFormat.Read(reader, "face gallery", GalleryFormatVersion, (r, _) =>
        {
            var o = new GalleryEnrollmentEstimator.Options
            {
                EmbeddingColumnName = r.ReadString(), IdentityColumnName = r.ReadString(), PredictedIdentityColumnName = r.ReadString(),
                ScoreColumnName = r.ReadString(), TopIdentitiesColumnName = r.ReadString(), TopScoresColumnName = r.ReadString(),
                UnknownIdentity = r.ReadString(), TopK = r.ReadInt32(), BatchSize = r.ReadInt32(),
            };
            bool hasThreshold = r.ReadBoolean();
            double threshold = r.ReadDouble();
            o.RejectionThreshold = hasThreshold ? threshold : null;
            int size = r.ReadInt32();
            var identities = new string[r.ReadInt32()];
            for (int i = 0; i < identities.Length; i++) identities[i] = r.ReadString();
            var rowIdentity = new int[r.ReadInt32()];
            for (int i = 0; i < rowIdentity.Length; i++) rowIdentity[i] = r.ReadInt32();
            var gallery = new float[rowIdentity.Length * size];
            for (int i = 0; i < gallery.Length; i++) gallery[i] = r.ReadSingle();
            return new FaceIdentificationTransformer(o, size, gallery, rowIdentity, identities);
        }));
        return found && result is not null ? result : throw new InvalidDataException($"The model has no '{GalleryStream}' stream for its identification transformer; the file is incomplete.");
    }
}
