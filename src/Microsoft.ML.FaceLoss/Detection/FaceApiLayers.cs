using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// The layers face-api's detector and landmark nets are built of, with TensorFlow's padding rules,
/// and the copying of their TensorFlow.js weights (filters stored height, width, in, out).
/// </summary>
internal static class FaceApiLayers
{
    /// <summary>
    /// Zero padding as TensorFlow's "same" adds it for a 3x3 window with <paramref name="stride"/>:
    /// one pixel on every side for stride 1; for stride 2 on an even size, one pixel after (right,
    /// bottom) and none before, which torch's symmetric padding cannot express.
    /// </summary>
    public static Tensor PadSame3x3(Tensor x, int stride)
    {
        if (stride == 1) return nn.functional.pad(x, new long[] { 1, 1, 1, 1 });
        long Total(long size) => Math.Max((size + stride - 1) / stride * stride - stride + 3 - size, 0);
        long w = Total(x.shape[3]), h = Total(x.shape[2]);
        return nn.functional.pad(x, new long[] { w / 2, w - w / 2, h / 2, h - h / 2 });
    }

    /// <summary>Copies a TensorFlow convolution (filters H x W x in x out, bias) into <paramref name="conv"/>.</summary>
    public static void LoadConv(Conv2d conv, IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string model, string prefix, int kernel, int inputs, int outputs)
    {
        var filters = TensorFlowJsWeights.Take(weights, model, $"{prefix}/filters", kernel, kernel, inputs, outputs);
        conv.weight!.copy_(tensor(filters.Values).view(kernel, kernel, inputs, outputs).permute(3, 2, 0, 1));
        conv.bias!.copy_(tensor(TensorFlowJsWeights.Take(weights, model, $"{prefix}/bias", outputs).Values));
    }
}
