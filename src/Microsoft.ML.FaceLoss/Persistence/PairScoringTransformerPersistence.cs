using Microsoft.ML;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(PairScoringTransformer), typeof(PairScoringTransformerPersistence), null, typeof(SignatureLoadModel),
    "Face Pair Scoring Transformer", PairScoringTransformerPersistence.LoaderSignature)]

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>Saves a <see cref="PairScoringTransformer"/> into an ML.NET model file and loads it back.</summary>
internal static class PairScoringTransformerPersistence
{
    internal const string LoaderSignature = "FacePairScoreTransform";

    private static VersionInfo Version => new(
        modelSignature: "FACEPAIR",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(PairScoringTransformerPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, PairScoringTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        // *** Binary format ***
        // string x 4: embedding 1, embedding 2, score, predicted label columns; int: metric; double: threshold
        ctx.SaveNonEmptyString(transformer.Embedding1ColumnName);
        ctx.SaveNonEmptyString(transformer.Embedding2ColumnName);
        ctx.SaveNonEmptyString(transformer.ScoreColumnName);
        ctx.SaveNonEmptyString(transformer.PredictedLabelColumnName);
        ctx.Writer.Write((int)transformer.Metric);
        ctx.Writer.Write(transformer.Threshold);
    }

    // Factory method for SignatureLoadModel.
    private static PairScoringTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(Version);
        string first = ctx.LoadNonEmptyString(), second = ctx.LoadNonEmptyString(), score = ctx.LoadNonEmptyString(), label = ctx.LoadNonEmptyString();
        var metric = (PairScoreMetric)ctx.Reader.ReadInt32();
        if (!Enum.IsDefined(metric)) throw new InvalidDataException($"Unknown pair score metric {(int)metric} in the model.");
        return new PairScoringTransformer(first, second, score, label, metric, ctx.Reader.ReadDouble());
    }
}
