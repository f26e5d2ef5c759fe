using Microsoft.ML;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Persistence;
using Microsoft.ML.FaceLoss.Verification;
using Microsoft.ML.Runtime;

// The transformers mlContext.Model.Load can read back. A model file names this assembly and each
// transformer's loader signature; ML.NET finds the loader through these declarations, so that a model
// loads in a fresh process with no registration call. The signatures are part of the file format.

[assembly: LoadableClass(typeof(FaceImageLoadingTransformer), typeof(TransformerLoader<FaceImageLoadingTransformer>), null,
    typeof(SignatureLoadModel), "Face Image Loading Transformer", FaceImageLoadingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(FaceImageCroppingTransformer), typeof(TransformerLoader<FaceImageCroppingTransformer>), null,
    typeof(SignatureLoadModel), "Face Image Cropping Transformer", FaceImageCroppingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(PairScoringTransformer), typeof(TransformerLoader<PairScoringTransformer>), null,
    typeof(SignatureLoadModel), "Face Pair Scoring Transformer", PairScoringTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(FaceIdentificationTransformer), typeof(TransformerLoader<FaceIdentificationTransformer>), null,
    typeof(SignatureLoadModel), "Face Identification Transformer", FaceIdentificationTransformer.LoaderSignature)]
