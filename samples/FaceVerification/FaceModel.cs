using Microsoft.ML.Data;

namespace FaceVerification;

/// <summary>The face model of this sample, Model Builder style: input and output rows here, training and consumption in their own files.</summary>
public static partial class FaceModel
{
    /// <summary>One image to embed.</summary>
    public sealed class ModelInput
    {
        /// <summary>The path of the image file (JPEG, PNG or PGM).</summary>
        [ColumnName("ImagePath")]
        public string ImagePath { get; set; } = "";

        /// <summary>The person, where known (used in training only).</summary>
        [ColumnName("Identity")]
        public string Identity { get; set; } = "";
    }

    /// <summary>The embedding of one image: L2-normalized, so the dot product of two is their cosine similarity.</summary>
    public sealed class ModelOutput
    {
        [ColumnName("Embedding")]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
