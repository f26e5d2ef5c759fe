using Microsoft.ML;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceImageLoadingTransformer), typeof(ImageLoadingTransformerPersistence), null, typeof(SignatureLoadModel),
    "Face Image Loading Transformer", ImageLoadingTransformerPersistence.LoaderSignature)]

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>Saves a <see cref="FaceImageLoadingTransformer"/> into an ML.NET model file and loads it back.</summary>
internal static class ImageLoadingTransformerPersistence
{
    internal const string LoaderSignature = "FaceImageLoadTransform";

    private static VersionInfo Version => new(
        modelSignature: "FACEIMGL",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ImageLoadingTransformerPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, FaceImageLoadingTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        // *** Binary format ***
        // string: output column; string: input column; string or null: image folder
        ctx.SaveNonEmptyString(transformer.OutputColumnName);
        ctx.SaveNonEmptyString(transformer.InputColumnName);
        ctx.SaveStringOrNull(transformer.ImageFolder);
    }

    // Factory method for SignatureLoadModel.
    private static FaceImageLoadingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(Version);
        string output = ctx.LoadNonEmptyString();
        string input = ctx.LoadNonEmptyString();
        string? folder = ctx.LoadStringOrNull();
        return new FaceImageLoadingTransformer(output, folder, input);
    }
}
