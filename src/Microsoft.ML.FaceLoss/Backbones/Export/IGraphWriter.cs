using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Backbones.Export;

/// <summary>
/// Writes a network's inference graph (evaluation mode: batch normalization with its running
/// statistics, no dropout) one module at a time. Values are named by strings; the ONNX exporter
/// implements it. The backbones describe their own wiring through <see cref="IExportableModule"/>,
/// so that the graph is defined beside the forward pass it must equal.
/// </summary>
internal interface IGraphWriter
{
    /// <summary>
    /// Writes <paramref name="module"/> applied to <paramref name="input"/> and returns the output's
    /// name: a standard layer (Conv2d, BatchNorm1d/2d, PReLU, Linear, Dropout, Flatten, MaxPool2d,
    /// Identity), a <c>Sequential</c> of such, or an <see cref="IExportableModule"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The module is none of these; the message names it and its place in the network.</exception>
    string Write(nn.Module module, string input);

    /// <summary>The element-wise sum of two values of one shape (a residual connection).</summary>
    string Add(string left, string right);

    /// <summary>Flattens every dimension after the batch into one: [N, ...] to [N, rest].</summary>
    string Flatten(string input);
}
