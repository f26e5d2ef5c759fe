namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// What <see cref="SyntheticFaces"/> draws: how many identities and images, their size, and how
/// much each image of one identity varies. Identity <c>i</c> always looks the same for one seed,
/// so disjoint ranges of identities (<see cref="FirstIdentity"/>) make seen and unseen people.
/// </summary>
public sealed class SyntheticFaceOptions
{
    /// <summary>The number of identities. Default: 40.</summary>
    public int Identities = 40;

    /// <summary>The index of the first identity; identities are <c>FirstIdentity .. FirstIdentity + Identities - 1</c>. Default: 0.</summary>
    public int FirstIdentity;

    /// <summary>Images of each identity. Default: 10.</summary>
    public int ImagesPerIdentity = 10;

    /// <summary>The width and height of the images in pixels, at least 16. Default: 64.</summary>
    public int ImageSize = 64;

    /// <summary>
    /// How strongly pose (roll, shift, scale), expression, lighting and noise vary between images of
    /// one identity, relative to the default; 0 draws every image of an identity alike. Default: 1.
    /// </summary>
    public double Variation = 1;

    /// <summary>The seed of everything drawn. Default: 1.</summary>
    public int Seed = 1;
}
