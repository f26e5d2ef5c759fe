using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Testing;

/// <summary>Calls back on the training thread after every step (<c>Progress&lt;T&gt;</c> would post to the thread pool).</summary>
internal sealed class ProgressCallback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
