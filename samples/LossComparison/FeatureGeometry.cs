namespace LossComparison;

/// <summary>How a head compares features: by direction only, or by position in the plane.</summary>
public enum FeatureSpace
{
    /// <summary>By angle: the head normalizes features (or, like softmax, decides by the angle to its class weights).</summary>
    Angular,

    /// <summary>By Euclidean distance: center loss and contrastive loss pull raw features to points.</summary>
    Planar,
}

/// <summary>
/// The geometry of held-out features relative to class centres learnt from training features: the
/// angle of each held-out point to its own class centre and to the nearest other class centre (the
/// gap between the two is what a margin buys), and the nearest-class-centre accuracy.
/// </summary>
public sealed class FeatureGeometry
{
    /// <summary>The angle, in degrees, of each held-out point to the centre of its own class.</summary>
    public List<double> OwnAngles { get; set; } = new();

    /// <summary>The angle, in degrees, of each held-out point to the nearest centre of another class.</summary>
    public List<double> NearestOtherAngles { get; set; } = new();

    /// <summary>The share of held-out points whose nearest class centre (by <see cref="Space"/>) is their own, in [0, 1].</summary>
    public double NearestCentreAccuracy { get; set; }

    /// <summary>The space the nearest centre is found in.</summary>
    public FeatureSpace Space { get; set; }

    /// <summary>The median of <see cref="OwnAngles"/>, degrees.</summary>
    public double MedianOwnAngle => Median(OwnAngles);

    /// <summary>The median of <see cref="NearestOtherAngles"/>, degrees.</summary>
    public double MedianNearestOtherAngle => Median(NearestOtherAngles);

    /// <summary>The median nearest-other angle minus the median own angle, degrees: positive when classes are apart by angle.</summary>
    public double AngleGap => MedianNearestOtherAngle - MedianOwnAngle;

    /// <summary>
    /// Measures held-out features against the centres of training features: the angular centre of a
    /// class is the mean of its unit training features, the planar centre the mean of its features.
    /// </summary>
    public static FeatureGeometry Measure(IReadOnlyList<float[]> training, IReadOnlyList<int> trainingLabels,
        IReadOnlyList<float[]> heldOut, IReadOnlyList<int> heldOutLabels, FeatureSpace space)
    {
        if (training.Count != trainingLabels.Count || heldOut.Count != heldOutLabels.Count)
            throw new ArgumentException("Every feature needs one label.");
        var classes = trainingLabels.Distinct().Order().ToArray();
        if (classes.Length < 2) throw new ArgumentException("The geometry of features needs at least two classes.", nameof(trainingLabels));
        int dimension = training[0].Length;
        var directions = classes.ToDictionary(c => c, c => Unit(Mean(training, trainingLabels, c, unit: true, dimension)));
        var means = classes.ToDictionary(c => c, c => Mean(training, trainingLabels, c, unit: false, dimension));

        var geometry = new FeatureGeometry { Space = space };
        int correct = 0;
        for (int i = 0; i < heldOut.Count; i++)
        {
            int own = heldOutLabels[i];
            if (!directions.ContainsKey(own)) throw new ArgumentException($"Held-out class {own} has no training features.", nameof(heldOutLabels));
            var direction = Unit(heldOut[i].Select(v => (double)v).ToArray());
            geometry.OwnAngles.Add(Angle(direction, directions[own]));
            geometry.NearestOtherAngles.Add(classes.Where(c => c != own).Min(c => Angle(direction, directions[c])));
            int nearest = space == FeatureSpace.Angular
                ? classes.MinBy(c => Angle(direction, directions[c]))
                : classes.MinBy(c => SquaredDistance(heldOut[i], means[c]));
            if (nearest == own) correct++;
        }
        geometry.NearestCentreAccuracy = correct / (double)heldOut.Count;
        return geometry;
    }

    private static double[] Mean(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int label, bool unit, int dimension)
    {
        var sum = new double[dimension];
        for (int i = 0; i < features.Count; i++)
        {
            if (labels[i] != label) continue;
            double norm = unit ? Math.Sqrt(features[i].Sum(v => (double)v * v)) : 1;
            for (int d = 0; d < dimension; d++) sum[d] += features[i][d] / Math.Max(norm, 1e-12);
        }
        int count = labels.Count(l => l == label);
        return sum.Select(v => v / count).ToArray();
    }

    private static double[] Unit(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / Math.Max(norm, 1e-12)).ToArray();
    }

    /// <summary>The angle between two unit vectors, degrees.</summary>
    private static double Angle(double[] a, double[] b)
    {
        double dot = 0;
        for (int d = 0; d < a.Length; d++) dot += a[d] * b[d];
        return Math.Acos(Math.Clamp(dot, -1, 1)) * 180 / Math.PI;
    }

    private static double SquaredDistance(float[] a, double[] b)
    {
        double sum = 0;
        for (int d = 0; d < a.Length; d++) sum += (a[d] - b[d]) * (a[d] - b[d]);
        return sum;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
