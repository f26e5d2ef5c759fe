namespace LossComparison;

/// <summary>What the comparison measured; written as results.json for the plotting tool and the README.</summary>
public sealed class Results
{
    public string Data { get; set; } = "";

    public string FeatureSetup { get; set; } = "";

    public string VerificationSetup { get; set; } = "";

    public List<FeaturePanel> Features { get; set; } = new();

    public List<HeadVerification> Verification { get; set; } = new();
}

/// <summary>The 2-D features of one head's LeNet++: one point per held-out image, with its class, and their geometry.</summary>
public sealed class FeaturePanel
{
    public string Head { get; set; } = "";

    /// <summary>The head's settings (its options' text).</summary>
    public string Settings { get; set; } = "";

    public double LearningRate { get; set; }

    /// <summary>Epochs of plain softmax before the head took over.</summary>
    public int SoftmaxWarmupEpochs { get; set; }

    /// <summary>Whether the panel draws the features' directions on the unit circle (normalized heads) rather than the features in the plane.</summary>
    public bool OnUnitCircle { get; set; }

    /// <summary>Angles to the class centres and the nearest-centre accuracy of the held-out points; null when training failed.</summary>
    public FeatureGeometry? Geometry { get; set; }

    public List<double> EpochLosses { get; set; } = new();

    public List<float> X { get; set; } = new();

    public List<float> Y { get; set; } = new();

    public List<int> Label { get; set; } = new();

    /// <summary>Why there are no points (training diverged), or null.</summary>
    public string? Failure { get; set; }
}

/// <summary>One head's verification of unseen identities.</summary>
public sealed class HeadVerification
{
    public string Head { get; set; } = "";

    public string Settings { get; set; } = "";

    public double Accuracy { get; set; }

    public double AccuracyStdDev { get; set; }

    public double Auc { get; set; }

    public double Eer { get; set; }

    public double? TarAtFar1e2 { get; set; }

    public double Seconds { get; set; }

    public List<double> Far { get; set; } = new();

    public List<double> Tar { get; set; } = new();
}
