using Microsoft.ML;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Detection;
using Microsoft.ML.FaceLoss.Embedding;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Runtime;

// The trained embedding, which mlContext.Model.Load reads back through this declaration (the other
// steps of a face pipeline are declared in Microsoft.ML.FaceLoss.Inference). The signature is part
// of the file format.

// ML.NET reads the declaration with reflection, which checks that its internal attribute is
// accessible from this assembly.
#pragma warning disable CS0436 // The attribute class is also defined in Microsoft.ML.FaceLoss.Inference, internal and visible here: each assembly needs its own.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
#pragma warning restore CS0436

[assembly: LoadableClass(typeof(FaceEmbeddingTransformer), typeof(TransformerLoader<FaceEmbeddingTransformer>), null,
    typeof(SignatureLoadModel), "Face Embedding Transformer", FaceEmbeddingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(DetectFacesTransformer), typeof(TransformerLoader<DetectFacesTransformer>), null,
    typeof(SignatureLoadModel), "Face Detection Transformer", DetectFacesTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(AlignFacesTransformer), typeof(TransformerLoader<AlignFacesTransformer>), null,
    typeof(SignatureLoadModel), "Face Alignment Transformer", AlignFacesTransformer.LoaderSignature)]

// Files saved before the split into two assemblies name this one as the loader of every step, by the
// names below. ML.NET loads the named assembly and looks the loaders up in it: the steps that moved to
// Microsoft.ML.FaceLoss.Inference are declared here under those names (today's files name the
// Inference assembly and its own loader names, with these as the alternative that older releases read).
[assembly: LoadableClass(typeof(FaceImageLoadingTransformer), typeof(TransformerLoader<FaceImageLoadingTransformer>), null,
    typeof(SignatureLoadModel), "Face Image Loading Transformer", FaceImageLoadingTransformer.LegacyLoaderSignature)]
[assembly: LoadableClass(typeof(FaceImageCroppingTransformer), typeof(TransformerLoader<FaceImageCroppingTransformer>), null,
    typeof(SignatureLoadModel), "Face Image Cropping Transformer", FaceImageCroppingTransformer.LegacyLoaderSignature)]
[assembly: LoadableClass(typeof(PairScoringTransformer), typeof(TransformerLoader<PairScoringTransformer>), null,
    typeof(SignatureLoadModel), "Face Pair Scoring Transformer", PairScoringTransformer.LegacyLoaderSignature)]
[assembly: LoadableClass(typeof(FaceIdentificationTransformer), typeof(TransformerLoader<FaceIdentificationTransformer>), null,
    typeof(SignatureLoadModel), "Face Identification Transformer", FaceIdentificationTransformer.LegacyLoaderSignature)]

namespace System.Runtime.CompilerServices
{
    /// <summary>Declares that this assembly may access the non-public members of another assembly.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        /// <summary>Creates the attribute for the assembly of the given simple name.</summary>
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        /// <summary>The simple name of the assembly whose access checks are ignored.</summary>
        public string AssemblyName { get; }
    }
}
