using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// The loader ML.NET calls (through the <c>LoadableClass</c> declarations in SavedTransformers.cs) to
/// read a transformer of this library from a model file: it checks the entry's version header, then
/// lets the transformer read its content.
/// </summary>
/// <typeparam name="T">The transformer.</typeparam>
internal static class TransformerLoader<T> where T : class, ILoadableTransformer<T>
{
    // Found by ML.NET's ComponentCatalog by name and signature (SignatureLoadModel).
    private static T Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(T.SavedFormat.VersionInfo);
        IntegrityManifest.VerifyIfPresent(ctx.Repository);
        var transformer = T.Read(new ModelReader(ctx, T.SavedFormat.LoaderSignature + " entry"));
        (transformer as ILoggingTransformer)?.AttachLog(env);
        return transformer;
    }
}
