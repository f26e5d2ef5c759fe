namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>Every loss head of the library by name: what saved models and golden files refer to.</summary>
public static class FaceLossHeads
{
    private static readonly Dictionary<string, Func<FaceLossOptions>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Softmax"] = () => new SoftmaxLoss.Options(),
        ["Contrastive"] = () => new ContrastiveLoss.Options(),
        ["Triplet"] = () => new TripletLoss.Options(),
        ["CenterLoss"] = () => new CenterLoss.Options(),
        ["LargeMarginSoftmax"] = () => new LargeMarginSoftmaxLoss.Options(),
        ["SphereFace"] = () => new SphereFaceLoss.Options(),
        ["NormFace"] = () => new NormFaceLoss.Options(),
        ["CosFace"] = () => new CosFaceLoss.Options(),
        ["ArcFace"] = () => new ArcFaceLoss.Options(),
        ["CombinedMargin"] = () => new CombinedMarginLoss.Options(),
        ["SubCenterArcFace"] = () => new SubCenterArcFaceLoss.Options(),
        ["CurricularFace"] = () => new CurricularFaceLoss.Options(),
        ["AdaFace"] = () => new AdaFaceLoss.Options(),
        ["MagFace"] = () => new MagFaceLoss.Options(),
        ["AdaCos"] = () => new AdaCosLoss.Options(),
        ["CircleLoss"] = () => new CircleLoss.Options(),
    };

    /// <summary>The names of all heads, as <see cref="FaceLossOptions.HeadName"/> gives them.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>Makes the options of the named head with the specification's defaults.</summary>
    /// <param name="headName">A head name such as <c>ArcFace</c> (case-insensitive).</param>
    /// <exception cref="ArgumentException">No head has that name.</exception>
    public static FaceLossOptions CreateOptions(string headName)
        => Factories.TryGetValue(headName, out var factory)
            ? factory()
            : throw new ArgumentException($"Unknown loss head '{headName}'. Known heads: {string.Join(", ", Names)}.", nameof(headName));
}
