using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// How a transformer is known inside an ML.NET model file: the signature of its entry and the loader
/// signature by which <c>mlContext.Model.Load</c> finds the code that reads it (declared with
/// <c>LoadableClass</c> in SavedTransformers.cs). Both are part of the file format: never change them.
/// </summary>
/// <param name="ModelSignature">Eight characters that mark the entry, for example <c>FACEEMBD</c>.</param>
/// <param name="LoaderSignature">The loader's name, for example <c>FaceEmbeddingTransform</c>.</param>
/// <param name="Transformer">The transformer's type: its assembly is the one the file names for ML.NET to load and search for the loader.</param>
/// <param name="LoaderSignatureAlt">A second loader name ML.NET tries when it finds no loader by the first: the name older releases know.</param>
internal sealed record TransformerFormat(string ModelSignature, string LoaderSignature, Type Transformer, string? LoaderSignatureAlt = null)
{
    /// <summary>Version 1: the entry's content as it is, its strings in ML.NET's string table.</summary>
    public const uint Version1 = 0x00010001;

    /// <summary>Version 2: the entry's content in the checksummed container of <see cref="ModelStreamFormat"/>, strings inside.</summary>
    public const uint Version2 = 0x00010002;

    /// <summary>ML.NET's version header of the entry: written as version 2, which only this build and later read; versions 1 and 2 read back.</summary>
    public VersionInfo VersionInfo => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version2,
        verReadableCur: Version2,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderSignatureAlt: LoaderSignatureAlt,
        loaderAssemblyName: Transformer.Assembly.FullName);
}
