using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Losses;

/// <summary>Each head against the float64 reference values of the golden file (FACELOSS_GOLDEN, else ../shared/golden/losses.json).</summary>
public sealed class GoldenLossTests
{
    public static IEnumerable<object[]> Cases() => GoldenCases.All();

    [GoldenTheory]
    [MemberData(nameof(Cases))]
    public void HeadMatchesTheReference(int index, string head)
    {
        var problems = GoldenCases.Check(index);
        Assert.True(problems.Count == 0, $"case {index} ({head}): " + string.Join("; ", problems));
    }
}
