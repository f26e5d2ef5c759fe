namespace Microsoft.ML.FaceLoss.Backbones.Export;

/// <summary>
/// A module of ours whose forward pass is more than a chain of standard layers (a residual block, a
/// backbone with a neck) describes that wiring to an <see cref="IGraphWriter"/>.
/// </summary>
internal interface IExportableModule
{
    /// <summary>Writes the module's inference graph applied to <paramref name="input"/>; returns the output's name.</summary>
    string WriteGraph(IGraphWriter graph, string input);
}
