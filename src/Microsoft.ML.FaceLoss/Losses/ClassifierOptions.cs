namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>The options every classifier head shares.</summary>
public abstract class ClassifierOptions : FaceLossOptions
{
    /// <summary>
    /// Null: the logits of a classifier head are column-wise (class j's logit depends only on row j of W,
    /// the embeddings and each row's label), so its class weights can be sharded across ranks. A head
    /// whose logits couple classes or batch rows overrides this with the reason.
    /// </summary>
    public override string? ShardingLimitation => null;

    /// <summary>
    /// The share of the classes each training step uses (Partial FC): the batch's own classes plus
    /// random others up to this share of C; 1 uses all. In (0, 1]. Default: 1.
    /// </summary>
    /// <remarks>Not a parameter of the loss itself, so not part of the golden files; saved with the model.</remarks>
    [LossParameter("sample_rate", Shared = true)]
    public double SampleRate
    {
        get;
        set => field = double.IsFinite(value) && value > 0 && value <= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(SampleRate), value, "SampleRate must lie in (0, 1].");
    } = 1;
}
