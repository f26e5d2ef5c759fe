namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>
/// The options of the heads with an additive angular margin on the target, cos(theta + m) (ArcFace,
/// sub-center ArcFace, CurricularFace, AdaFace): the scale s and the margin m. Their small-data preset
/// is s = 16, m = 0.2.
/// </summary>
public abstract class AngularMarginOptions : ScaledClassifierOptions
{
    /// <summary>Creates the options with the head's default scale and margin.</summary>
    protected AngularMarginOptions(double defaultScale, double defaultMargin) : base(defaultScale) => Margin = defaultMargin;

    /// <summary>The angular margin m in radians, in [0, pi). Default: the head's (0.5; AdaFace 0.4).</summary>
    [LossParameter("margin")]
    public double Margin { get; set => field = InRange(value, 0, Math.PI, nameof(Margin)); }

    /// <inheritdoc />
    public override void ApplySmallDataPreset() => (Scale, Margin) = (16, 0.2);
}
