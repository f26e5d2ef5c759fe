namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>
/// The base of this library's transformers as ML.NET saves them: <c>mlContext.Model.Save</c> calls
/// <see cref="ICanSaveModel.Save"/>, which writes the entry's version header and lets the transformer
/// write its content. Loading is the counterpart in <see cref="TransformerLoader{T}"/>.
/// </summary>
public abstract class SavedTransformer : ICanSaveModel
{
    private protected SavedTransformer()
    {
    }

    /// <summary>How the transformer is known in model files.</summary>
    private protected abstract TransformerFormat Format { get; }

    /// <summary>Writes the transformer's content after the version header.</summary>
    private protected abstract void Write(ModelWriter writer);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Format.VersionInfo);
        var writer = new ModelWriter(ctx);
        Write(writer);
        writer.Finish();
    }
}
