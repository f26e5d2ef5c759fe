using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>The additive angular margin cos(theta + m) shared by ArcFace and its successors.</summary>
internal static class AngularMargin
{
    /// <summary>
    /// cos(theta + m) of target cosines <paramref name="t"/>, computed as t cos m - sin(theta) sin m.
    /// Where theta + m would pass pi (t &lt;= cos(pi - m)) the result is t - m sin(pi - m) instead, or,
    /// with <paramref name="easyMargin"/>, t itself where t &lt;= 0. <paramref name="margin"/> is either a
    /// number or, for per-sample margins, a tensor of the shape of t.
    /// </summary>
    public static Tensor AddToAngle(Tensor t, double margin, bool easyMargin = false)
    {
        using var m = tensor(margin, dtype: t.dtype, device: t.device);
        return AddToAngle(t, m, easyMargin);
    }

    /// <inheritdoc cref="AddToAngle(Tensor, double, bool)" />
    public static Tensor AddToAngle(Tensor t, Tensor margin, bool easyMargin = false)
    {
        using var scope = NewDisposeScope();
        // sin(theta) = sqrt(1 - t^2); the clamp keeps the gradient finite at |t| = 1.
        var sine = (1 - t * t).clamp_min(1e-12).sqrt();
        var phi = t * margin.cos() - sine * margin.sin();
        Tensor result;
        if (easyMargin)
        {
            result = where(t > 0, phi, t);
        }
        else
        {
            var threshold = (Math.PI - margin).cos();
            var fallback = t - margin * (Math.PI - margin).sin();
            result = where(t > threshold, phi, fallback);
        }
        return result.MoveToOuterDisposeScope();
    }
}
