namespace Microsoft.ML.FaceLoss.Data;

/// <summary>One pair of a verification protocol.</summary>
/// <param name="ImagePath1">The full path of the first image.</param>
/// <param name="ImagePath2">The full path of the second image.</param>
/// <param name="IsSame">Whether both images show one identity.</param>
/// <param name="Fold">The protocol's fold of the pair, or null where the list has no folds.</param>
public sealed record FacePair(string ImagePath1, string ImagePath2, bool IsSame, int? Fold);

/// <summary>The pairs of a verification protocol, in the list's order.</summary>
/// <param name="Pairs">The pairs.</param>
/// <param name="HasFolds">Whether the list assigns folds (LFW <c>pairs.txt</c>, a CSV with a fold column).</param>
public sealed record FacePairList(IReadOnlyList<FacePair> Pairs, bool HasFolds)
{
    /// <summary>The number of same-identity pairs.</summary>
    public int SameCount => Pairs.Count(p => p.IsSame);

    /// <summary>The number of folds (0 without folds).</summary>
    public int FoldCount => HasFolds ? Pairs.Select(p => p.Fold).Distinct().Count() : 0;
}

/// <summary>A row of a pair data view: <c>ImagePath1</c>, <c>ImagePath2</c>, <c>IsSame</c>, <c>Fold</c> (-1 without folds).</summary>
public sealed class FacePairRow
{
    /// <summary>The full path of the first image.</summary>
    public string ImagePath1 { get; set; } = "";

    /// <summary>The full path of the second image.</summary>
    public string ImagePath2 { get; set; } = "";

    /// <summary>Whether both images show one identity.</summary>
    public bool IsSame { get; set; }

    /// <summary>The protocol's fold, or -1 where the list has none.</summary>
    public int Fold { get; set; } = -1;
}

/// <summary>A person of an LFW people list.</summary>
/// <param name="Name">The person's folder name.</param>
/// <param name="ImageCount">The number of images of the person.</param>
/// <param name="Fold">The fold of <c>people.txt</c>, or null for lists without folds.</param>
public sealed record FacePerson(string Name, int ImageCount, int? Fold);
