namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options SphereFace and L-Softmax share: the integer angular margin m and the annealing
/// schedule lambda = max(lambda_min, lambda_base * (1 + gamma * it)^(-power)) that blends the
/// margin target with the plain one, (lambda * plain + margined) / (1 + lambda).
/// </summary>
public abstract class MultiplicativeMarginOptions : ClassifierOptions
{
    /// <summary>Creates the options with the head's default margin.</summary>
    protected MultiplicativeMarginOptions(int defaultMargin) => Margin = defaultMargin;

    /// <summary>The multiplicative angular margin m, an integer of at least 1.</summary>
    [LossParameter("margin")]
    public int Margin
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Margin), value, "Margin (m) must be an integer of at least 1.");
    }

    /// <summary>lambda_base, the starting weight of the plain target. Default: 1000.</summary>
    [LossParameter("lambda_base")]
    public double LambdaBase { get; set => field = NonNegative(value, nameof(LambdaBase)); } = 1000;

    /// <summary>gamma, the speed of the annealing. Default: 0.12.</summary>
    [LossParameter("gamma")]
    public double Gamma { get; set => field = NonNegative(value, nameof(Gamma)); } = 0.12;

    /// <summary>power, the exponent of the annealing. Default: 1.</summary>
    [LossParameter("power")]
    public double Power { get; set => field = NonNegative(value, nameof(Power)); } = 1;

    /// <summary>lambda_min, the floor of lambda. Default: 5.</summary>
    [LossParameter("lambda_min")]
    public double LambdaMin { get; set => field = NonNegative(value, nameof(LambdaMin)); } = 5;

    /// <summary>lambda after <paramref name="iteration"/> optimizer steps.</summary>
    public double Lambda(long iteration) => Math.Max(LambdaMin, LambdaBase * Math.Pow(1 + Gamma * iteration, -Power));
}
