namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>The options of the classifier heads whose logits are scaled cosines: the scale s.</summary>
public abstract class ScaledClassifierOptions : ClassifierOptions
{
    /// <summary>Creates the options with the head's default scale.</summary>
    protected ScaledClassifierOptions(double defaultScale) => Scale = defaultScale;

    /// <summary>The scale s of the cosine logits, greater than 0. Default: the head's (64 for the margin heads, 16 for NormFace).</summary>
    [LossParameter("scale")]
    public double Scale { get; set => field = Positive(value, nameof(Scale)); }
}
