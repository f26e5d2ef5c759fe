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

    /// <summary>
    /// Options of the named head that train well on small data sets (a few thousand images, such as
    /// ORL, a synthetic set or a few hundred LFW people): the defaults of the papers target millions
    /// of images and over-fit or stall here. Margin heads get scale 16 and margins near 0.2 (combined
    /// margin m2 = 0.2, m3 = 0.1; MagFace margins 0.1 to 0.3), Circle loss gamma 32, AdaCos a scale
    /// of at most 16; the others keep the specification's defaults. Measured on ORL, Omniglot, LFW
    /// and synthetic faces (see the README's results).
    /// </summary>
    public static FaceLossOptions CreateSmallDataOptions(string headName)
    {
        var options = CreateOptions(headName);
        switch (options)
        {
            case MagFaceLoss.Options magFace:
                (magFace.Scale, magFace.LowerMargin, magFace.UpperMargin) = (16, 0.1, 0.3);
                break;
            case CombinedMarginLoss.Options combined:
                (combined.Scale, combined.M2, combined.M3) = (16, 0.2, 0.1);
                break;
            case CircleLoss.Options circle:
                circle.Gamma = 32;
                break;
            case AdaCosLoss.Options adaCos:
                adaCos.MaximumScale = 16;
                break;
            case NormFaceLoss.Options or CosFaceLoss.Options or ArcFaceLoss.Options or SubCenterArcFaceLoss.Options or CurricularFaceLoss.Options or AdaFaceLoss.Options:
                options.SetParameter("scale", 16.0);
                if (options is not NormFaceLoss.Options) options.SetParameter("margin", 0.2);
                break;
        }
        return options;
    }

    /// <summary>Makes the options of the named head with the specification's defaults.</summary>
    /// <param name="headName">A head name such as <c>ArcFace</c> (case-insensitive).</param>
    /// <exception cref="ArgumentException">No head has that name.</exception>
    public static FaceLossOptions CreateOptions(string headName)
        => Factories.TryGetValue(headName, out var factory)
            ? factory()
            : throw new ArgumentException($"Unknown loss head '{headName}'. Known heads: {string.Join(", ", Names)}.", nameof(headName));
}
