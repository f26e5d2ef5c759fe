using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Training;

/// <summary>Makes the optimiser of the settings over the given parameters.</summary>
internal static class Optimizers
{
    public static OptimizerHelper Create(IEnumerable<Parameter> parameters, OptimizerSettings s) => s.Kind == FaceOptimizer.AdamW
        ? (OptimizerHelper)optim.AdamW(parameters, s.LearningRate, s.AdamBeta1, s.AdamBeta2, 1e-8, s.WeightDecay)
        : optim.SGD(parameters, s.LearningRate, s.Momentum, 0, s.WeightDecay, s.Nesterov && s.Momentum > 0);
}
