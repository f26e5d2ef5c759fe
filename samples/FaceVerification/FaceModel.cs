using Microsoft.ML.Data;

namespace FaceVerification;

/// <summary>The face model of this sample, Model Builder style: the rows here, training and consumption in their own files.</summary>
public static partial class FaceModel
{
    /// <summary>One image.</summary>
    public sealed class ModelInput
    {
        /// <summary>The path of the image file (JPEG, PNG or PGM).</summary>
        [ColumnName("ImagePath")]
        public string ImagePath { get; set; } = "";
    }

    /// <summary>The embedding of one image: L2-normalized, so the dot product of two is their cosine similarity.</summary>
    public sealed class ModelOutput
    {
        [ColumnName("Embedding")]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    /// <summary>Who one image shows, according to the gallery model.</summary>
    public sealed class IdentityOutput
    {
        [ColumnName("PredictedIdentity")]
        public string PredictedIdentity { get; set; } = "";

        [ColumnName("IdentityScore")]
        public float Score { get; set; }
    }
}
