using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;

namespace Microsoft.ML.FaceLoss.Tests.Data;

/// <summary>The protocol readers against the real LFW lists, and the pairs CSV.</summary>
public sealed class ProtocolReaderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "faceloss-lists-" + Guid.NewGuid().ToString("N"));

    public ProtocolReaderTests()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "img"));
        foreach (var name in new[] { "a.png", "b.png", "c.png" }) File.WriteAllBytes(Path.Combine(_folder, "img", name), Array.Empty<byte>());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [LfwFact]
    public void PairsTxtHasTenFoldsOf300SameAnd300Different()
    {
        var list = ProtocolReaders.ReadPairs(Path.Combine(TestData.LfwRoot, "pairs.txt"), TestData.LfwImages);
        Assert.Equal(6000, list.Pairs.Count);
        Assert.True(list.HasFolds);
        Assert.Equal(10, list.FoldCount);
        foreach (var fold in list.Pairs.GroupBy(p => p.Fold))
        {
            Assert.Equal(600, fold.Count());
            Assert.Equal(300, fold.Count(p => p.IsSame));
        }
        var first = list.Pairs[0]; // "Abel_Pacheco 1 4"
        Assert.Equal(Path.Combine(TestData.LfwImages, "Abel_Pacheco", "Abel_Pacheco_0001.jpg"), first.ImagePath1);
        Assert.Equal(Path.Combine(TestData.LfwImages, "Abel_Pacheco", "Abel_Pacheco_0004.jpg"), first.ImagePath2);
    }

    [LfwFact]
    public void DevListsHaveNoFoldsSamePairsFirst()
    {
        var test = ProtocolReaders.ReadPairs(Path.Combine(TestData.LfwRoot, "pairsDevTest.txt"), TestData.LfwImages);
        Assert.False(test.HasFolds);
        Assert.Equal(1000, test.Pairs.Count);
        Assert.All(test.Pairs.Take(500), p => Assert.True(p.IsSame));
        Assert.All(test.Pairs.Skip(500), p => Assert.False(p.IsSame));
        var train = ProtocolReaders.ReadPairs(Path.Combine(TestData.LfwRoot, "pairsDevTrain.txt"), TestData.LfwImages);
        Assert.Equal((2200, 1100), (train.Pairs.Count, train.SameCount));
    }

    [LfwFact]
    public void PeopleListsAreReadWithTheirFolds()
    {
        var devTrain = ProtocolReaders.ReadLfwPeople(Path.Combine(TestData.LfwRoot, "peopleDevTrain.txt"));
        var devTest = ProtocolReaders.ReadLfwPeople(Path.Combine(TestData.LfwRoot, "peopleDevTest.txt"));
        Assert.Equal((4038, 1711), (devTrain.Count, devTest.Count));
        Assert.Empty(devTrain.Select(p => p.Name).Intersect(devTest.Select(p => p.Name)));
        var folded = ProtocolReaders.ReadLfwPeople(Path.Combine(TestData.LfwRoot, "people.txt"));
        Assert.Equal(10, folded.Select(p => p.Fold).Distinct().Count());
        Assert.Equal(new FacePerson("Abdel_Madi_Shabneh", 1, 0), folded[0]);
    }

    [LfwFact]
    public void LoadPairsGivesADataViewWithFolds()
    {
        var ml = new MLContext();
        var view = ml.FaceRecognition().Data.LoadPairs(Path.Combine(TestData.LfwRoot, "pairs.txt"), TestData.LfwImages);
        var rows = ml.Data.CreateEnumerable<FacePairRow>(view, reuseRowObject: false).ToList();
        Assert.Equal(6000, rows.Count);
        Assert.Equal(Enumerable.Range(0, 10), rows.Select(r => r.Fold).Distinct().Order());
    }

    [Fact]
    public void ACsvOfPairsIsReadWithOrWithoutFoldsAndHeader()
    {
        string csv = Path.Combine(_folder, "pairs.csv");
        File.WriteAllLines(csv, new[] { "path1,path2,same,fold", "a.png,b.png,1,0", "a.png,c.png,different,1" });
        var list = ProtocolReaders.ReadPairs(csv, Path.Combine(_folder, "img"));
        Assert.True(list.HasFolds);
        Assert.Equal(new[] { true, false }, list.Pairs.Select(p => p.IsSame));
        Assert.Equal(new int?[] { 0, 1 }, list.Pairs.Select(p => p.Fold));
        Assert.Equal(Path.Combine(_folder, "img", "c.png"), list.Pairs[1].ImagePath2);

        File.WriteAllLines(csv, new[] { "a.png,b.png,true" });
        Assert.False(ProtocolReaders.ReadPairs(csv, Path.Combine(_folder, "img")).HasFolds);
    }

    [Fact]
    public void MissingImagesAreReportedByName()
    {
        string csv = Path.Combine(_folder, "pairs.csv");
        File.WriteAllLines(csv, new[] { "a.png,zzz.png,0" });
        var error = Assert.Throws<FileNotFoundException>(() => ProtocolReaders.ReadPairs(csv, Path.Combine(_folder, "img")));
        Assert.Contains("zzz.png", error.Message);
    }

    [Fact]
    public void ABadLineIsReportedWithItsNumber()
    {
        string list = Path.Combine(_folder, "pairs.txt");
        File.WriteAllLines(list, new[] { "1", "a 1 2", "b 1" });
        var error = Assert.Throws<InvalidDataException>(() => ProtocolReaders.ReadPairs(list, _folder));
        Assert.Contains("line 3", error.Message);
    }
}
