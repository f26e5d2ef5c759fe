namespace Microsoft.ML.FaceLoss.Training;

/// <summary>The optimisers of <see cref="FaceEmbeddingTrainer"/>.</summary>
public enum FaceOptimizer
{
    /// <summary>SGD with momentum (and, as an option, Nesterov momentum) and L2 weight decay: what face models are trained with.</summary>
    Sgd,

    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    AdamW,
}
