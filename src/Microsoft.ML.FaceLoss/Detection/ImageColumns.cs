using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>The check of the image column that DetectFaces and AlignFaces read.</summary>
internal static class ImageColumns
{
    /// <summary>Finds the image column <paramref name="name"/> and checks its type; returns its index.</summary>
    public static int Find(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no image column '{name}' (LoadImages or LoadImagesWithNetpbm makes one).");
        if (column.Type is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for image column '{name}': expected an image, got {column.Type}.");
        return column.Index;
    }
}
