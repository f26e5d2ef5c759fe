namespace Microsoft.ML.FaceLoss.Tests.Infrastructure;

/// <summary>
/// Tests that train share torch's global generator and the machine's two cores; running them one
/// after another keeps them reproducible and no slower. They share one model trained on ORL.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection : ICollectionFixture<OrlModelFixture>
{
    public const string Name = "Torch";
}
