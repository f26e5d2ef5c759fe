using Microsoft.ML.Runtime;

namespace Microsoft.ML.FaceLoss.Persistence;

/// <summary>A transformer that reports to ML.NET's log (<c>mlContext.Log</c>); a loaded one gets the loading context's.</summary>
internal interface ILoggingTransformer
{
    /// <summary>Makes the transformer report through <paramref name="environment"/>.</summary>
    void AttachLog(IHostEnvironment environment);
}
