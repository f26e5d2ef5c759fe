using Microsoft.ML.FaceLoss.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// A depthwise separable convolution as TensorFlow's <c>separableConv2d</c> with "same" padding:
/// a 3x3 depthwise convolution with <c>stride</c>, a 1x1 pointwise one, then the bias.
/// </summary>
internal sealed class SeparableConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d depthwise;
    private readonly Conv2d pointwise;
    private readonly int inputs, outputs, stride;

    public SeparableConv(int inputs, int outputs, int stride) : base(nameof(SeparableConv))
    {
        (this.inputs, this.outputs, this.stride) = (inputs, outputs, stride);
        depthwise = nn.Conv2d(inputs, inputs, 3, stride: stride, groups: inputs, bias: false);
        pointwise = nn.Conv2d(inputs, outputs, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return pointwise.forward(depthwise.forward(FaceApiLayers.PadSame3x3(input, stride))).MoveToOuterDisposeScope();
    }

    /// <summary>Copies <c>prefix/depthwise_filter</c> (3 x 3 x C x 1), <c>pointwise_filter</c> (1 x 1 x C x out) and <c>bias</c>.</summary>
    public void Load(IReadOnlyDictionary<string, TensorFlowJsTensor> weights, string model, string prefix)
    {
        var d = TensorFlowJsWeights.Take(weights, model, $"{prefix}/depthwise_filter", 3, 3, inputs, 1);
        depthwise.weight!.copy_(tensor(d.Values).view(3, 3, inputs, 1).permute(2, 3, 0, 1));
        var p = TensorFlowJsWeights.Take(weights, model, $"{prefix}/pointwise_filter", 1, 1, inputs, outputs);
        pointwise.weight!.copy_(tensor(p.Values).view(inputs, outputs).t().reshape(outputs, inputs, 1, 1));
        pointwise.bias!.copy_(tensor(TensorFlowJsWeights.Take(weights, model, $"{prefix}/bias", outputs).Values));
    }
}
