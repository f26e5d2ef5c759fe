using System.Globalization;
using System.Text.RegularExpressions;
using FaceVerification;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Samples;

/// <summary>
/// The README's first command (<c>dotnet run --project samples/FaceVerification</c>, defaults only):
/// what a newcomer sees must be what the README promises, and good.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class FirstCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-first-command-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void TheReadmeQuotesTheFiguresTheFirstCommandPrints()
    {
        var result = FaceVerificationApp.Run(new SampleOptions { Output = _folder, ShowProgress = false });

        string readme = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "README.md"));
        var quoted = Regex.Match(readme,
            @"prints verification accuracy (?<accuracy>\d+\.\d\d) % ± (?<std>\d+\.\d\d) %, AUC (?<auc>0\.\d{4}) and rank-1 identification\s+(?<rank>\d+\.\d) % of (?<probes>\d+) probes");
        Assert.True(quoted.Success, "README.md no longer quotes the first command's figures in the sentence this test reads.");
        string Percent(double value, int decimals) => (100 * value).ToString("F" + decimals, CultureInfo.InvariantCulture);
        Assert.Equal(quoted.Groups["accuracy"].Value, Percent(result.Verification.Accuracy, 2));
        Assert.Equal(quoted.Groups["std"].Value, Percent(result.Verification.AccuracyStdDev, 2));
        Assert.Equal(quoted.Groups["auc"].Value, result.Verification.Auc.ToString("F4", CultureInfo.InvariantCulture));
        Assert.Equal(quoted.Groups["rank"].Value, Percent(result.Rank1, 1));
        Assert.Equal(quoted.Groups["probes"].Value, result.Probes.ToString(CultureInfo.InvariantCulture));

        // What a newcomer should see: unseen people verified at 95% or better.
        Assert.True(result.Verification.Accuracy >= 0.95, $"accuracy {result.Verification.Accuracy:P2}");
        Assert.Equal((210, 90), (result.TrainingPeople, result.UnseenPeople));
    }
}
