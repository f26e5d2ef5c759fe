namespace Microsoft.ML.FaceLoss.Backbones;

/// <summary>The convolutional networks that turn an image into an embedding.</summary>
public enum FaceBackbone
{
    /// <summary>
    /// A small CNN for small inputs and fast tests: a 3x3 stem and three stages of two 3x3
    /// convolutions (the first with stride 2) with batch normalisation and PReLU, widths w, 2w and
    /// 4w (w = 16 by default), then the BN-Dropout-FC-BN neck. Any input of at least 8 x 8 pixels.
    /// </summary>
    SmallCnn = 0,

    /// <summary>
    /// LeNet++ of the center-loss paper (Wen et al. 2016) for 28 x 28 grey input: three stages of two
    /// 5x5 convolutions with PReLU (32, 64, 128 channels; w = 32 scales them) and 2x2 max pooling, then
    /// a linear layer to the embedding, typically 2-D for the feature pictures of the papers.
    /// </summary>
    LeNetPlusPlus = 1,

    /// <summary>IResNet-18 (ArcFace's improved ResNet, layers 2-2-2-2; see <see cref="IResNet50"/>).</summary>
    IResNet18 = 2,

    /// <summary>IResNet-34 (layers 3-4-6-3; see <see cref="IResNet50"/>).</summary>
    IResNet34 = 3,

    /// <summary>
    /// IResNet-50 (layers 3-4-14-3), the ArcFace backbone: a 3x3 stem, then BN-Conv-BN-PReLU-Conv-BN
    /// residual units with the stride in the second convolution and widths w, 2w, 4w, 8w (w = 64),
    /// then the BN-Dropout-FC-BN neck. The stem has stride 1 for inputs of 96 pixels and more (112 x
    /// 112: the stages run at 112, 56, 28, 14 and end at 7 x 7) and stride 2 below (64 x 64: the
    /// stages run at 32, 16, 8, 4 and end at 2 x 2, about a quarter of the stride-1 cost); see
    /// <c>FaceEmbeddingTrainer.Options.StemStride</c>.
    /// </summary>
    IResNet50 = 4,

    /// <summary>
    /// MobileFaceNet (Chen et al. 2018): depthwise-separable inverted-residual bottlenecks and a
    /// global depthwise convolution instead of pooling, about one million parameters at 112 x 112.
    /// </summary>
    MobileFaceNet = 5,

    /// <summary>A network of the user's: <c>FaceEmbeddingTrainer.Options.CustomBackbone</c> makes it.</summary>
    Custom = 6,

    /// <summary>
    /// <see cref="LeNetPlusPlus"/> with a BatchNorm1d after its last linear layer (the last layer of
    /// ArcFace's neck). It centres the features: in two dimensions the heads on normalized features
    /// need that to spread ten classes around the circle (ArcFace on ten synthetic classes: 45.5%
    /// nearest-centre accuracy without it, 100% with it), while LeNet++'s uncentred features suit
    /// softmax and center loss, as in the center-loss paper.
    /// </summary>
    LeNetPlusPlusBatchNorm = 7,

    /// <summary>
    /// dlib's 29-layer ResNet face descriptor, pretrained on about three million faces (dlib reports
    /// 99.38% on LFW with its alignment): 3 x 150 x 150 RGB in [-1, 1] to 128-D, no batch
    /// normalization (a per-channel affine scale after every convolution). Training starts from the
    /// weights of face-api's <c>face_recognition_model</c> in
    /// <c>FaceEmbeddingTrainer.Options.PretrainedModelFolder</c>; <c>FrozenStages</c> keeps the first
    /// stages fixed. Needs <c>EmbeddingSize</c> 128 and 150 x 150 images.
    /// </summary>
    DlibResNet29 = 8,
}
