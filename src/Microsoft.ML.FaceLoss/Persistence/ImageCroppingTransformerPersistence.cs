using Microsoft.ML;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceImageCroppingTransformer), typeof(ImageCroppingTransformerPersistence), null, typeof(SignatureLoadModel),
    "Face Image Cropping Transformer", ImageCroppingTransformerPersistence.LoaderSignature)]

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>Saves a <see cref="FaceImageCroppingTransformer"/> into an ML.NET model file and loads it back.</summary>
internal static class ImageCroppingTransformerPersistence
{
    internal const string LoaderSignature = "FaceImageCropTransform";

    private static VersionInfo Version => new(
        modelSignature: "FACECROP",
        verWrittenCur: 0x00010001, // initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ImageCroppingTransformerPersistence).Assembly.FullName);

    public static void Save(ModelSaveContext ctx, FaceImageCroppingTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version);
        // *** Binary format ***
        // string: output column; string: input column; double: share
        ctx.SaveNonEmptyString(transformer.OutputColumnName);
        ctx.SaveNonEmptyString(transformer.InputColumnName);
        ctx.Writer.Write(transformer.Share);
    }

    // Factory method for SignatureLoadModel.
    private static FaceImageCroppingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(Version);
        string output = ctx.LoadNonEmptyString(), input = ctx.LoadNonEmptyString();
        return new FaceImageCroppingTransformer(output, input, ctx.Reader.ReadDouble());
    }
}
