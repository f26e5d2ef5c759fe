using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The base of SphereFace and L-Softmax: the annealing state <c>iteration</c> (optimizer steps
/// taken) and the blend of the plain target with the margin target psi(theta).
/// </summary>
/// <typeparam name="TOptions">The head's options.</typeparam>
public abstract class MultiplicativeMarginHead<TOptions> : ClassifierHead<TOptions> where TOptions : MultiplicativeMarginOptions
{
    private readonly Tensor _iteration;

    /// <summary>Creates the head and its <c>iteration</c> state (0).</summary>
    protected MultiplicativeMarginHead(TOptions options, int classCount, int embeddingSize, ScalarType dtype, Device? device)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _iteration = CreateState("iteration", zeros(Array.Empty<long>(), ScalarType.Int64, device));
    }

    /// <summary>
    /// The target logit (lambda * scale * t + scale * psi(theta)) / (1 + lambda) for target cosines
    /// <paramref name="t"/> and per-row scales <paramref name="scale"/> (|x| for SphereFace, |W_y||x| for
    /// L-Softmax), with lambda of the current iteration, psi(theta) = (-1)^k cos(m theta) - 2k,
    /// k = floor(m theta / pi) (a constant for the gradient), theta = acos(t) with t clamped to
    /// [-1+1e-7, 1-1e-7]. In training, counts the step.
    /// </summary>
    protected Tensor MarginTarget(Tensor t, Tensor scale)
    {
        double lambda = HeadOptions.Lambda(_iteration.item<long>());
        var target = (lambda * scale * t + scale * Psi(t, HeadOptions.Margin)) / (1 + lambda);
        if (training)
            using (no_grad()) _iteration.add_(1);
        return target;
    }

    private static Tensor Psi(Tensor t, int margin)
    {
        using var scope = NewDisposeScope();
        var theta = t.clamp(-1 + 1e-7, 1 - 1e-7).acos();
        Tensor k;
        using (no_grad()) k = (theta * margin / Math.PI).floor();
        var sign = 1 - 2 * k.remainder(2); // (-1)^k
        return (sign * (theta * margin).cos() - 2 * k).MoveToOuterDisposeScope();
    }
}
