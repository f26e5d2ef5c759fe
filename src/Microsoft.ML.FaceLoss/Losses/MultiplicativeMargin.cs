using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options SphereFace and L-Softmax share: the integer angular margin m and the annealing
/// schedule lambda = max(lambda_min, lambda_base * (1 + gamma * it)^(-power)) that blends the
/// margin target with the plain one, (lambda * plain + margined) / (1 + lambda).
/// </summary>
public abstract class MultiplicativeMarginOptions : ClassifierOptions
{
    private int _margin;
    private double _lambdaBase = 1000, _gamma = 0.12, _power = 1, _lambdaMin = 5;

    /// <summary>Creates the options with the head's default margin.</summary>
    protected MultiplicativeMarginOptions(int defaultMargin) => _margin = defaultMargin;

    /// <summary>The multiplicative angular margin m, an integer of at least 1.</summary>
    [LossParameter("margin")]
    public int Margin
    {
        get => _margin;
        set => _margin = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Margin), value, "Margin (m) must be an integer of at least 1.");
    }

    /// <summary>lambda_base, the starting weight of the plain target. Default: 1000.</summary>
    [LossParameter("lambda_base")]
    public double LambdaBase { get => _lambdaBase; set => _lambdaBase = NonNegative(value, nameof(LambdaBase)); }

    /// <summary>gamma, the speed of the annealing. Default: 0.12.</summary>
    [LossParameter("gamma")]
    public double Gamma { get => _gamma; set => _gamma = NonNegative(value, nameof(Gamma)); }

    /// <summary>power, the exponent of the annealing. Default: 1.</summary>
    [LossParameter("power")]
    public double Power { get => _power; set => _power = NonNegative(value, nameof(Power)); }

    /// <summary>lambda_min, the floor of lambda. Default: 5.</summary>
    [LossParameter("lambda_min")]
    public double LambdaMin { get => _lambdaMin; set => _lambdaMin = NonNegative(value, nameof(LambdaMin)); }

    /// <summary>lambda after <paramref name="iteration"/> optimizer steps.</summary>
    public double Lambda(long iteration) => Math.Max(LambdaMin, LambdaBase * Math.Pow(1 + Gamma * iteration, -Power));
}

/// <summary>
/// The base of SphereFace and L-Softmax: the annealing state <c>iteration</c> (optimizer steps
/// taken) and the blend of the plain target with the margin target psi(theta).
/// </summary>
public abstract class MultiplicativeMarginHead : ClassifierHead
{
    private readonly MultiplicativeMarginOptions _options;
    private readonly Tensor _iteration;

    /// <summary>Creates the head and its <c>iteration</c> state (0).</summary>
    protected MultiplicativeMarginHead(MultiplicativeMarginOptions options, int classCount, int embeddingSize, ScalarType dtype, Device? device)
        : base(options, classCount, embeddingSize, dtype, device)
    {
        _options = (MultiplicativeMarginOptions)HeadOptions;
        _iteration = CreateState("iteration", zeros(Array.Empty<long>(), ScalarType.Int64, device));
    }

    /// <summary>
    /// The target logit (lambda * scale * t + scale * psi(theta)) / (1 + lambda) for target cosines
    /// <paramref name="t"/> and per-row scales <paramref name="scale"/> (|x| for SphereFace, |W_y||x| for
    /// L-Softmax), with lambda of the current iteration; in training, counts the step.
    /// </summary>
    protected Tensor MarginTarget(Tensor t, Tensor scale)
    {
        double lambda = _options.Lambda(_iteration.item<long>());
        var target = (lambda * scale * t + scale * MultiplicativeMargin.Psi(t, _options.Margin)) / (1 + lambda);
        if (training)
            using (no_grad()) _iteration.add_(1);
        return target;
    }
}

/// <summary>The margin function of SphereFace and L-Softmax.</summary>
internal static class MultiplicativeMargin
{
    /// <summary>
    /// psi(theta) = (-1)^k cos(m theta) - 2k with k = floor(m theta / pi), a constant for the
    /// gradient; theta = acos(t) with t clamped to [-1+1e-7, 1-1e-7].
    /// </summary>
    public static Tensor Psi(Tensor t, int margin)
    {
        using var scope = NewDisposeScope();
        var theta = t.clamp(-1 + 1e-7, 1 - 1e-7).acos();
        Tensor k;
        using (no_grad()) k = (theta * margin / Math.PI).floor();
        var sign = 1 - 2 * k.remainder(2); // (-1)^k
        return (sign * (theta * margin).cos() - 2 * k).MoveToOuterDisposeScope();
    }
}
