namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>
/// Tests that train share torch's global generator and the machine's two cores; running them one
/// after another keeps them reproducible and no slower.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "Torch";
}
