using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// How a transformer is known inside an ML.NET model file: the signature of its entry and the loader
/// signature by which <c>mlContext.Model.Load</c> finds the code that reads it (declared with
/// <c>LoadableClass</c> in SavedTransformers.cs). Both are part of the file format: never change them.
/// </summary>
/// <param name="ModelSignature">Eight characters that mark the entry, for example <c>FACEEMBD</c>.</param>
/// <param name="LoaderSignature">The loader's name, for example <c>FaceEmbeddingTransform</c>.</param>
internal sealed record TransformerFormat(string ModelSignature, string LoaderSignature)
{
    /// <summary>The format version written and the oldest this build reads (0x00010001: the first).</summary>
    public const uint Version1 = 0x00010001;

    /// <summary>ML.NET's version header of the entry.</summary>
    public VersionInfo VersionInfo => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version1,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TransformerFormat).Assembly.FullName);
}
