namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>The convolutional networks that turn an image into an embedding.</summary>
public enum FaceBackbone
{
    /// <summary>
    /// A small CNN for small inputs and fast tests: a 3x3 stem and three stages of two 3x3
    /// convolutions (the first with stride 2) with batch normalisation and PReLU, widths w, 2w and
    /// 4w, then the BN-Dropout-FC-BN neck to the embedding. Any input of at least 8 x 8 pixels.
    /// </summary>
    SmallCnn = 0,
}
