using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Losses;

namespace LossComparison;

/// <summary>
/// How one head trains 2-D features of ten classes: the head's options, the learning rate, how its
/// features are compared (<see cref="Space"/>) and drawn (<see cref="OnUnitCircle"/>).
/// </summary>
/// <remarks>
/// Chosen by measurement on ten synthetic identities at the picture's settings (nearest-class-centre
/// accuracy on held-out images; README, "Loss comparison"). Every head trains LeNet++ with a
/// BatchNorm1d on its 2-D output: the features must be centred for normalized heads to use the whole
/// circle (ArcFace on the plain LeNet++: 45.5%, its classes on a line). Ten classes in two dimensions
/// leave 36 degrees per class, so an additive angular margin must stay well under 18 degrees (0.2 rad
/// = 11.5 degrees fits) and a scale of 16 lets the softmax saturate. Heads on normalized features
/// learn at 0.003 (ArcFace at 0.01: 77%); heads on raw features reach 95.5% to 100% at 0.01 and 97% to
/// 99% at 0.003 (softmax 95.5 and 97%, center loss 100 and 98.5%, L-Softmax 99.5 and 97%, SphereFace
/// 100 and 97%, contrastive 97.5 and 99%).
/// </remarks>
public sealed record FeatureSettings(FaceLossOptions Loss, double LearningRate, FeatureSpace Space, bool OnUnitCircle, double SoftmaxWarmupShare = 0)
{
    /// <summary>The learning rate of heads on raw features (softmax and its multiplicative-margin kin, center and contrastive loss).</summary>
    public const double RawFeatureLearningRate = 0.01;

    /// <summary>The learning rate of heads on normalized features.</summary>
    public const double NormalizedFeatureLearningRate = 0.003;

    /// <summary>The epochs of plain softmax before the head takes over (its share of <paramref name="epochs"/>, rounded).</summary>
    public int SoftmaxWarmupEpochs(int epochs) => (int)Math.Round(SoftmaxWarmupShare * epochs, MidpointRounding.AwayFromZero);

    /// <summary>The settings of one head (a name of <see cref="FaceLossHeads.Names"/>) for 2-D features of ten classes.</summary>
    public static FeatureSettings For(string head)
    {
        var loss = FaceLossHeads.CreateSmallDataOptions(head);
        switch (loss)
        {
            // The picture of the center-loss paper shows a larger lambda than its default: compactness becomes visible.
            case CenterLoss.Options center:
                center.Lambda = 0.05;
                return new(loss, RawFeatureLearningRate, FeatureSpace.Planar, OnUnitCircle: false);
            case ContrastiveLoss.Options:
                return new(loss, RawFeatureLearningRate, FeatureSpace.Planar, OnUnitCircle: false);
            case SoftmaxLoss.Options or LargeMarginSoftmaxLoss.Options or SphereFaceLoss.Options:
                return new(loss, RawFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: false);
            // Class-level Circle loss accepts a negative below cos = sqrt(2) m when the positive is at cos 1: with
            // m = 0.25 (0.35) the ten classes of a circle, 36 degrees apart (cos 0.81), can never satisfy it and the
            // features collapse (48% in a smaller run); m = 0.75 with gamma = 4 separates them (98.5%; gamma 8: 87.5%, 16: 91%;
            // m = 0.6: 53%, 0.85: 75.5%, all at gamma 8 or 16).
            case CircleLoss.Options circle:
                circle.Margin = 0.75;
                circle.Gamma = 4;
                return new(loss, NormalizedFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: true);
            // CurricularFace turns a hard negative's logit c into c (t + c): while its running positive cosine t is
            // small and a sample is far from its class, even a negative pointing away from it (c near -1) is hard and
            // gets the largest logit, which drives 2-D features onto a line (Fashion-MNIST: 35%). Half the epochs of plain softmax first place the classes
            // (Fashion-MNIST 68%, synthetic faces 100%; 3 of 15 epochs: 55.5%).
            case CurricularFaceLoss.Options:
                return new(loss, NormalizedFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: true, SoftmaxWarmupShare: 0.5);
            // Sub-center ArcFace's thirty sub-centres on a circle merge classes on Fashion-MNIST (38.5%); a fifth of
            // the epochs of plain softmax first avoids it (69%; synthetic faces 100%).
            case SubCenterArcFaceLoss.Options:
                return new(loss, NormalizedFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: true, SoftmaxWarmupShare: 0.2);
            // MagFace's feature length is its quality measure: drawn in the plane to show it.
            case MagFaceLoss.Options:
                return new(loss, NormalizedFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: false);
            default:
                return new(loss, NormalizedFeatureLearningRate, FeatureSpace.Angular, OnUnitCircle: true);
        }
    }
}
