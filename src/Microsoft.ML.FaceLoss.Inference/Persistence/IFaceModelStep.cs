namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// A step that makes a model file a face model (the trained embedding, a gallery, pair scoring):
/// <c>LoadModel</c> refuses a file that holds none.
/// </summary>
internal interface IFaceModelStep
{
}
