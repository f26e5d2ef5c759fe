namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>A transformer that <see cref="TransformerLoader{T}"/> can read back from a model file.</summary>
/// <typeparam name="TSelf">The transformer.</typeparam>
internal interface ILoadableTransformer<TSelf> where TSelf : class
{
    /// <summary>How the transformer is known in model files (the header is checked against it).</summary>
    static abstract TransformerFormat SavedFormat { get; }

    /// <summary>Reads the content that the transformer's <c>Write</c> wrote.</summary>
    static abstract TSelf Read(ModelReader reader);
}
