namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>
/// A similarity transform of the plane (rotation, uniform scale, translation, no reflection):
/// x' = A x - B y + Tx, y' = B x + A y + Ty, where A = s cos(theta) and B = s sin(theta).
/// </summary>
/// <param name="A">The scale times the cosine of the rotation.</param>
/// <param name="B">The scale times the sine of the rotation.</param>
/// <param name="Tx">The horizontal translation, pixels.</param>
/// <param name="Ty">The vertical translation, pixels.</param>
public readonly record struct SimilarityTransform(double A, double B, double Tx, double Ty)
{
    /// <summary>The scale factor s.</summary>
    public double Scale => Math.Sqrt(A * A + B * B);

    /// <summary>The rotation, radians.</summary>
    public double Rotation => Math.Atan2(B, A);

    /// <summary>The image of (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public (double X, double Y) Apply(double x, double y) => (A * x - B * y + Tx, B * x + A * y + Ty);

    /// <summary>The inverse transform.</summary>
    public SimilarityTransform Inverse()
    {
        double d = A * A + B * B;
        if (!(d > 0)) throw new InvalidOperationException("A transform of scale 0 has no inverse.");
        double a = A / d, b = -B / d;
        return new SimilarityTransform(a, b, -(a * Tx - b * Ty), -(b * Tx + a * Ty));
    }

    /// <summary>
    /// The least-squares similarity that maps <paramref name="source"/> onto <paramref name="target"/>
    /// (Umeyama 1991, "Least-squares estimation of transformation parameters between two point
    /// patterns", without reflection): it minimizes the sum of squared distances between the mapped
    /// source points and the targets. In the plane the solution is closed: with centred points as
    /// complex numbers p and q, A + iB = sum(conj(p) q) / sum(|p|^2).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two points, counts that differ, a non-finite coordinate, or source points that all coincide.</exception>
    public static SimilarityTransform Estimate(IReadOnlyList<ImagePoint> source, IReadOnlyList<ImagePoint> target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Count != target.Count || source.Count < 2)
            throw new ArgumentException($"A similarity needs at least two point pairs; got {source.Count} source and {target.Count} target points.", nameof(source));
        int n = source.Count;
        double msx = 0, msy = 0, mtx = 0, mty = 0;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(source[i].X) || !float.IsFinite(source[i].Y) || !float.IsFinite(target[i].X) || !float.IsFinite(target[i].Y))
                throw new ArgumentException($"Point pair {i} has a non-finite coordinate.", nameof(source));
            msx += source[i].X; msy += source[i].Y; mtx += target[i].X; mty += target[i].Y;
        }
        (msx, msy, mtx, mty) = (msx / n, msy / n, mtx / n, mty / n);
        double re = 0, im = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            double px = source[i].X - msx, py = source[i].Y - msy, qx = target[i].X - mtx, qy = target[i].Y - mty;
            re += px * qx + py * qy;
            im += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if (!(norm > 1e-12))
            throw new ArgumentException("The source points all coincide: no similarity can be fitted.", nameof(source));
        double a = re / norm, b = im / norm;
        return new SimilarityTransform(a, b, mtx - (a * msx - b * msy), mty - (b * msx + a * msy));
    }
}
