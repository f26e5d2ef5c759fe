using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Backbones;
using Microsoft.ML.FaceLoss.Distributed;
using Microsoft.ML.FaceLoss.Losses;

namespace Microsoft.ML.FaceLoss.Training;

public sealed partial class FaceEmbeddingTrainer
{
    /// <summary>The options of <see cref="FaceEmbeddingTrainer"/>; every field has a documented default.</summary>
    public sealed class Options
    {
        // ---- Columns and input ----

        /// <summary>The input column of planar pixels, a known-size vector of <see cref="float"/>. Default: <c>Features</c>.</summary>
        public string FeatureColumnName = DefaultColumnNames.Features;

        /// <summary>The key-typed identity column (for example from <c>MapValueToKey</c>). Default: <c>Label</c>.</summary>
        public string LabelColumnName = DefaultColumnNames.Label;

        /// <summary>The added column of L2-normalized embeddings. Default: <c>Embedding</c>.</summary>
        public string OutputColumnName = "Embedding";

        /// <summary>Colour channels C of the images (1 grey, 3 RGB); 0 takes them from the feature column's dimensions. Default: 0.</summary>
        public int ImageChannels;

        /// <summary>Image height H in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageHeight;

        /// <summary>Image width W in pixels; 0 takes it from the feature column's dimensions. Default: 0.</summary>
        public int ImageWidth;

        // ---- Network ----

        /// <summary>The backbone network. Default: <see cref="FaceBackbone.SmallCnn"/>.</summary>
        public FaceBackbone Backbone = FaceBackbone.SmallCnn;

        /// <summary>
        /// The channel count of the backbone's first stage (later stages multiply it); 0 for the
        /// backbone's own (SmallCnn 16, LeNet++ 32, IResNet 64, MobileFaceNet 64). Default: 0.
        /// </summary>
        public int BackboneWidth;

        /// <summary>The stride of the IResNet stem, 1 or 2; 0 chooses 1 for inputs of 96 pixels and more, 2 below. Default: 0.</summary>
        public int StemStride;

        /// <summary>A backbone of your own (see <see cref="BackboneFactory"/>); sets <see cref="Backbone"/> to Custom. Default: null.</summary>
        public BackboneFactory? CustomBackbone;

        /// <summary>
        /// The folder with face-api's model files (<c>face_recognition_model-weights_manifest.json</c> and its
        /// shard) that <see cref="FaceBackbone.DlibResNet29"/> starts from. Default: null, which means the
        /// FACELOSS_MODELS environment variable, else <c>../shared/models/face-api</c> from the current directory.
        /// </summary>
        public string? PretrainedModelFolder;

        /// <summary>
        /// How many of <see cref="FaceBackbone.DlibResNet29"/>'s four stages (stem and 32 channels, 64, 128,
        /// 256) keep their pretrained weights during training, 0 to 4; only the rest and the final
        /// projection learn. The network has no batch normalization, so small fine-tuning batches are
        /// safe. Default: 0.
        /// </summary>
        public int FrozenStages;

        /// <summary>The length D of the embedding. Default: 128.</summary>
        public int EmbeddingSize = 128;

        /// <summary>The dropout probability of the neck before the embedding layer, in [0, 1). Default: 0.</summary>
        public double DropoutRate;

        // ---- Loss ----

        /// <summary>The loss head and its parameters. Default: ArcFace with s = 64, m = 0.5.</summary>
        public FaceLossOptions Loss = new ArcFaceLoss.Options();

        /// <summary>
        /// Epochs trained with plain softmax before the chosen head takes over (it then starts from
        /// the softmax class weights), as practitioners start margin heads. Default: 0.
        /// </summary>
        public int SoftmaxWarmupEpochs;

        /// <summary>K, the images of one identity in a batch for pair and triplet heads, at least 2. Default: 4.</summary>
        public int ImagesPerIdentity = 4;

        // ---- Optimisation ----

        /// <summary>Passes over the training data. Default: 10.</summary>
        public int Epochs = 10;

        /// <summary>
        /// Images per training step. Default: 64. Pair and triplet heads get identity-balanced
        /// batches of BatchSize / <see cref="ImagesPerIdentity"/> identities (P) with K images each.
        /// </summary>
        public int BatchSize = 64;

        /// <summary>The optimiser. Default: <see cref="FaceOptimizer.Sgd"/>.</summary>
        public FaceOptimizer Optimizer = FaceOptimizer.Sgd;

        /// <summary>The base learning rate. Default: 0.1 (for AdamW choose about 1e-3).</summary>
        public double LearningRate = 0.1;

        /// <summary>The momentum of SGD, in [0, 1). Default: 0.9.</summary>
        public double Momentum = 0.9;

        /// <summary>Whether SGD uses Nesterov momentum. Default: false.</summary>
        public bool Nesterov;

        /// <summary>The weight decay (L2 for SGD, decoupled for AdamW), on the backbone and the class weights. Default: 5e-4.</summary>
        public double WeightDecay = 5e-4;

        /// <summary>AdamW's beta1. Default: 0.9.</summary>
        public double AdamBeta1 = 0.9;

        /// <summary>AdamW's beta2. Default: 0.999.</summary>
        public double AdamBeta2 = 0.999;

        /// <summary>The learning-rate schedule after the warm-up. Default: <see cref="LearningRateSchedule.Constant"/>.</summary>
        public LearningRateSchedule LearningRateSchedule = LearningRateSchedule.Constant;

        /// <summary>For the step schedule: the epochs after which the rate is multiplied by <see cref="LearningRateDecay"/>. Default: none.</summary>
        public int[] LearningRateMilestones = Array.Empty<int>();

        /// <summary>For the step schedule: the factor at each milestone, in (0, 1]. Default: 0.1.</summary>
        public double LearningRateDecay = 0.1;

        /// <summary>For the cosine schedule: the rate at the last step. Default: 0.</summary>
        public double MinimumLearningRate;

        /// <summary>Epochs (fractions allowed) over which the rate rises linearly from near 0 to the base rate. Default: 0.</summary>
        public double WarmupEpochs;

        /// <summary>The largest L2 norm of all gradients together (they are scaled down beyond it); 0 for no clipping. Default: 0.</summary>
        public double GradientClipNorm;

        // ---- Data ----

        /// <summary>
        /// Whether the training rows are read once into memory (fast; needed by pair and triplet
        /// heads); false reads them from the data view in every epoch, for data that does not fit. Default: true.
        /// </summary>
        public bool InMemory = true;

        /// <summary>Whether training images are flipped left-right at random. Default: true.</summary>
        public bool HorizontalFlip = true;

        /// <summary>The padding in pixels of a random crop (the image shifted by up to this much, zero filled); 0 for none. Default: 0.</summary>
        public int RandomCropPadding;

        // ---- Validation ----

        /// <summary>
        /// Images of identities not in the training data (same feature column, key-typed label column)
        /// for per-epoch verification; see <c>FaceEmbeddingTransformer.TrainingHistory</c>. Default: null.
        /// </summary>
        public IDataView? ValidationData;

        /// <summary>The share of the training identities held out for validation instead (seeded), in [0, 1). Default: 0.</summary>
        public double ValidationIdentityFraction;

        /// <summary>Stop after this many epochs without a better validation accuracy; 0 never stops early. Default: 0.</summary>
        public int EarlyStoppingPatience;

        /// <summary>Whether the returned model has the weights of the best validation epoch (with validation data). Default: true.</summary>
        public bool KeepBestEpoch = true;

        // ---- Checkpoints, progress, control ----

        /// <summary>
        /// A folder for checkpoints; <see cref="Fit"/> resumes from the one there. On the CPU a resumed
        /// run ends with the same weights as an uninterrupted one. Default: null (no checkpoints).
        /// </summary>
        public string? CheckpointFolder;

        /// <summary>Also write a checkpoint every this many steps (one is written at each epoch's end); 0 for epoch ends only. Default: 0.</summary>
        public int CheckpointEverySteps;

        /// <summary>Receives a <see cref="TrainingProgress"/> after every step. Default: null.</summary>
        public IProgress<TrainingProgress>? Progress;

        /// <summary>Stops training after the current step (writing a checkpoint where a folder is set) with an <see cref="OperationCanceledException"/>. Default: none.</summary>
        public CancellationToken Cancellation;

        /// <summary>Torch's CPU threads during training; null leaves torch's choice. Default: null.</summary>
        public int? NumberOfThreads;

        /// <summary>The seed of weight initialisation, dropout, sampling and augmentation; null draws it from the <see cref="MLContext"/>'s seed. Default: null.</summary>
        public int? Seed;

        // ---- Several processes or machines ----

        /// <summary>
        /// Whether training runs in this process alone or as one rank of an Open MPI job (data-parallel:
        /// every rank trains <see cref="BatchSize"/> images per micro-batch, the gradients are averaged,
        /// so a step sees ranks x <see cref="GradientAccumulationSteps"/> x BatchSize images). Default:
        /// <see cref="DistributedMode.Auto"/>, MPI when launched by <c>mpirun -np N</c> with N above 1.
        /// See README, "Training on several processes or machines".
        /// </summary>
        public DistributedMode Distributed = DistributedMode.Auto;

        /// <summary>
        /// Whether each rank holds only its share (C / N identities) of the class weights and their
        /// optimizer state, the softmax being computed across ranks (insightface's model-parallel Partial
        /// FC), for very many identities. Heads whose <c>ShardingLimitation</c> gives a reason are refused.
        /// With one process it trains as the unsharded head. Default: false (every rank holds all of W).
        /// </summary>
        public bool ShardClassWeights;

        /// <summary>
        /// Micro-batches of <see cref="BatchSize"/> images whose gradients each rank accumulates before one
        /// optimizer step (a larger effective batch in the memory of one micro-batch; batch normalisation
        /// sees each micro-batch alone). At least 1. Default: 1.
        /// </summary>
        public int GradientAccumulationSteps = 1;

        /// <summary>Images per forward pass when the trained transformer embeds a data view. Default: 64.</summary>
        public int InferenceBatchSize = 64;

        /// <summary>Whether the trained transformer embeds each image with its mirror image (the flip test). Default: false.</summary>
        public bool FlipTest;
    }
}
