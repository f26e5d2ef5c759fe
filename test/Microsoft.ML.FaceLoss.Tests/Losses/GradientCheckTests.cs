using Microsoft.ML.FaceLoss.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Tests.Losses;

/// <summary>
/// Every head's gradients against central finite differences, in float64, on small random inputs.
/// Where the specification stops the gradient of a term computed from the batch (AdaCos's scale,
/// CurricularFace's t, AdaFace's z, Circle loss's weights), the finite differences hold that term
/// constant, as the analytic gradient does.
/// </summary>
public sealed class GradientCheckTests
{
    public static IEnumerable<object[]> Heads() => FaceLossHeads.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Heads))]
    public void AnalyticGradientsMatchFiniteDifferences(string headName)
    {
        const int n = 8, d = 5, classes = 3;
        const double step = 1e-6;
        using var scope = NewDisposeScope();
        var generator = new Generator(42);
        var options = FaceLossHeads.CreateOptions(headName);
        using var head = options.CreateHead(classes, d, ScalarType.Float64);
        if (head.Weight is not null)
            head.SetWeight(randn(head.Weight.shape, ScalarType.Float64, generator: generator));
        // Norms near 10..20 keep MagFace and AdaFace away from their clamps; two images per class for the pair heads.
        var x = (randn(new long[] { n, d }, ScalarType.Float64, generator: generator) * 4).requires_grad_(true);
        var y = tensor(new long[] { 0, 0, 0, 1, 1, 1, 2, 2 });
        head.train();
        switch (headName)
        {
            case "AdaCos" or "CurricularFace":
                head.eval(); // the state is not updated, so scale and t stay constant
                break;
            case "AdaFace":
                head.eval();
                // Statistics that put every z at its clamp (z = 1): constant, and not zero.
                using (no_grad())
                {
                    head.State["batch_mean"].fill_(0);
                    head.State["batch_std"].fill_(1e-9);
                }
                break;
        }
        var snapshot = head.State.ToDictionary(s => s.Key, s => s.Value.clone());
        Func<double>? frozen = headName == "CircleLoss" ? CircleWithFrozenWeights((CircleLoss.Options)options, x, y, head.Weight!) : null;

        double Evaluate()
        {
            using var inner = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var (name, value) in snapshot) head.State[name].copy_(value);
            return frozen?.Invoke() ?? head.forward(x, y).item<double>();
        }

        Evaluate();
        foreach (var (name, value) in snapshot) using (no_grad()) head.State[name].copy_(value);
        var loss = head.forward(x, y);
        loss.backward();
        Assert.True(double.IsFinite(loss.item<double>()), $"{headName}: loss {loss.item<double>()}");

        var checkedTensors = new List<(string Name, Tensor Values)> { ("embeddings", x) };
        if (head.Weight is not null) checkedTensors.Add(("weight", head.Weight));
        foreach (var (name, values) in checkedTensors)
        {
            var analytic = values.grad!.clone().contiguous().data<double>().ToArray();
            var flat = values.detach().view(-1);
            for (int i = 0; i < analytic.Length; i++)
            {
                double original = flat[i].item<double>();
                using (no_grad()) flat[i] = original + step;
                double plus = Evaluate();
                using (no_grad()) flat[i] = original - step;
                double minus = Evaluate();
                using (no_grad()) flat[i] = original;
                double numeric = (plus - minus) / (2 * step);
                double tolerance = 1e-5 + 1e-4 * Math.Abs(numeric);
                Assert.True(Math.Abs(analytic[i] - numeric) <= tolerance,
                    $"{headName}: d loss / d {name}[{i}] is {analytic[i]:R} analytically, {numeric:R} numerically");
            }
        }
    }

    /// <summary>Circle loss recomputed from its formula with a_p and a_n fixed at their values for the unperturbed input.</summary>
    private static Func<double> CircleWithFrozenWeights(CircleLoss.Options options, Tensor x, Tensor y, Tensor weight)
    {
        double gamma = options.Gamma, m = options.Margin;
        Tensor Cosine() => nn.functional.normalize(x, p: 2, dim: 1).mm(nn.functional.normalize(weight, p: 2, dim: 1).t());
        Tensor alphaP, alphaN, isTarget;
        using (no_grad())
        {
            var cosine = Cosine();
            isTarget = nn.functional.one_hot(y, cosine.shape[1]).to(ScalarType.Bool);
            alphaP = (1 + m - cosine.gather(1, y.unsqueeze(1)).squeeze(1)).clamp_min(0);
            alphaN = (cosine + m).clamp_min(0);
        }
        return () =>
        {
            var cosine = Cosine();
            var positive = cosine.gather(1, y.unsqueeze(1)).squeeze(1);
            var negatives = (gamma * alphaN * (cosine - m)).masked_fill(isTarget, double.NegativeInfinity).logsumexp(1);
            return nn.functional.softplus(negatives - gamma * alphaP * (positive - (1 - m))).mean().item<double>();
        };
    }
}
