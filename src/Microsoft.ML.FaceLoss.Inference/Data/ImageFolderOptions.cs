namespace Microsoft.ML.FaceLoss.Data;

/// <summary>Options of <see cref="FaceRecognitionCatalog.DataCatalog.LoadImageFolder(string, ImageFolderOptions?)"/>.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>
    /// The file extensions (with the dot, case-insensitive) that count as images. Default: .jpg, .jpeg,
    /// .png, .bmp, .gif, .webp, .pgm, .ppm, .pnm.
    /// </summary>
    public string[] Extensions = { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".pgm", ".ppm", ".pnm" };

    /// <summary>Identities with fewer images are left out. Default: 1.</summary>
    public int MinimumImagesPerIdentity = 1;

    /// <summary>When set, only identities (sub-folder names) for which it returns true are read. Default: null (all).</summary>
    public Func<string, bool>? IdentityFilter;
}
