using static TorchSharp.torch;

namespace Microsoft.ML.FaceLoss.Losses;

/// <summary>The additive angular margin cos(theta + m) shared by ArcFace and its successors.</summary>
internal static class AngularMargin
{
    /// <summary>
    /// cos(theta + m) of target cosines <paramref name="t"/>, computed as t cos m - sin(theta) sin m.
    /// Where theta + m would pass pi (t &lt;= cos(pi - m)) the result is t - m sin(pi - m) instead, or,
    /// with <paramref name="easyMargin"/>, t itself where t &lt;= 0.
    /// </summary>
    public static Tensor AddToAngle(Tensor t, double margin, bool easyMargin = false)
    {
        using var m = tensor(margin, dtype: t.dtype, device: t.device);
        return AddToAngle(t, m, easyMargin, out _);
    }

    /// <summary>
    /// <see cref="AddToAngle(Tensor, double, bool)"/> with per-sample margins (a tensor of the shape of
    /// <paramref name="t"/>, or a number as a 0-dimensional tensor); <paramref name="cosineOfSum"/>
    /// receives cos(theta + m) before the fallback (CurricularFace compares non-target cosines with it).
    /// </summary>
    public static Tensor AddToAngle(Tensor t, Tensor margin, bool easyMargin, out Tensor cosineOfSum)
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
        cosineOfSum = phi.MoveToOuterDisposeScope();
        return result.MoveToOuterDisposeScope();
    }
}
