using System.Globalization;

namespace Microsoft.ML.FaceLoss.Data;

/// <summary>
/// Readers of the verification protocols' lists: LFW <c>pairs.txt</c> (10 folds),
/// <c>pairsDevTrain.txt</c> / <c>pairsDevTest.txt</c>, the <c>people*.txt</c> lists, and a plain
/// CSV of pairs (<c>path1,path2,same[,fold]</c>) for any other data set. Image paths are resolved
/// against an image root, and missing files are reported by name.
/// </summary>
public static class ProtocolReaders
{
    /// <summary>Reads an LFW pairs list or, for a <c>.csv</c> file, a pairs CSV.</summary>
    public static FacePairList ReadPairs(string pairsFile, string imageRoot)
        => Path.GetExtension(pairsFile).Equals(".csv", StringComparison.OrdinalIgnoreCase)
            ? ReadPairsCsv(pairsFile, imageRoot)
            : ReadLfwPairs(pairsFile, imageRoot);

    /// <summary>
    /// Reads an LFW pairs list: a first line "folds pairsPerClass" (<c>pairs.txt</c>: "10 300", each
    /// fold 300 same then 300 different pairs) or "count" (<c>pairsDev*.txt</c>: count same then count
    /// different pairs, no folds); then "name i j" for a same pair and "name1 i name2 j" for a
    /// different pair. Images are <c>imageRoot/name/name_NNNN.jpg</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The list or images are missing; the message names them.</exception>
    /// <exception cref="InvalidDataException">A line does not follow the format; the message gives its number.</exception>
    public static FacePairList ReadLfwPairs(string pairsFile, string imageRoot)
    {
        var lines = ReadLines(pairsFile);
        var header = Split(lines[0]);
        int folds, perClass;
        bool hasFolds = header.Length == 2;
        if (hasFolds) (folds, perClass) = (Int(header[0], pairsFile, 1), Int(header[1], pairsFile, 1));
        else if (header.Length == 1) (folds, perClass) = (1, Int(header[0], pairsFile, 1));
        else throw new InvalidDataException($"'{pairsFile}' line 1: expected 'folds pairs' or 'pairs', got '{lines[0]}'.");

        var pairs = new List<FacePair>();
        int line = 1;
        for (int fold = 0; fold < folds; fold++)
        {
            foreach (bool same in new[] { true, false })
            {
                for (int i = 0; i < perClass; i++, line++)
                {
                    if (line >= lines.Count) throw new InvalidDataException($"'{pairsFile}' ends at line {line}; {folds * perClass * 2} pairs were announced.");
                    var t = Split(lines[line]);
                    FacePair pair = (same, t.Length) switch
                    {
                        (true, 3) => new FacePair(LfwImage(imageRoot, t[0], t[1], pairsFile, line), LfwImage(imageRoot, t[0], t[2], pairsFile, line), true, hasFolds ? fold : null),
                        (false, 4) => new FacePair(LfwImage(imageRoot, t[0], t[1], pairsFile, line), LfwImage(imageRoot, t[2], t[3], pairsFile, line), false, hasFolds ? fold : null),
                        _ => throw new InvalidDataException($"'{pairsFile}' line {line + 1}: expected a {(same ? "same pair 'name i j'" : "different pair 'name1 i name2 j'")}, got '{lines[line]}'."),
                    };
                    pairs.Add(pair);
                }
            }
        }
        CheckFiles(pairs.SelectMany(p => new[] { p.ImagePath1, p.ImagePath2 }), pairsFile);
        return new FacePairList(pairs, hasFolds);
    }

    /// <summary>
    /// Reads a CSV of pairs: <c>path1,path2,same[,fold]</c> per line (an optional header line; same is
    /// 1/0, true/false or same/different), paths relative to <paramref name="imageRoot"/> or absolute.
    /// </summary>
    public static FacePairList ReadPairsCsv(string csvFile, string imageRoot)
    {
        var lines = ReadLines(csvFile);
        var pairs = new List<FacePair>();
        bool? hasFolds = null;
        for (int i = 0; i < lines.Count; i++)
        {
            var t = lines[i].Split(',').Select(s => s.Trim()).ToArray();
            if (i == 0 && IsHeader(t)) continue;
            if (t.Length is < 3 or > 4 || !TryParseSame(t[2], out bool same))
                throw new InvalidDataException($"'{csvFile}' line {i + 1}: expected 'path1,path2,same[,fold]', got '{lines[i]}'.");
            if (hasFolds is not null && hasFolds != (t.Length == 4))
                throw new InvalidDataException($"'{csvFile}' line {i + 1}: every line must have a fold, or none.");
            hasFolds = t.Length == 4;
            int? fold = t.Length == 4 ? Int(t[3], csvFile, i + 1) : null;
            pairs.Add(new FacePair(Path.GetFullPath(Path.Combine(imageRoot, t[0])), Path.GetFullPath(Path.Combine(imageRoot, t[1])), same, fold));
        }
        if (pairs.Count == 0) throw new InvalidDataException($"'{csvFile}' holds no pairs.");
        CheckFiles(pairs.SelectMany(p => new[] { p.ImagePath1, p.ImagePath2 }), csvFile);
        return new FacePairList(pairs, hasFolds == true);
    }

    /// <summary>
    /// Reads an LFW people list: <c>peopleDevTrain.txt</c>/<c>peopleDevTest.txt</c> (a count, then
    /// "name images" lines) or <c>people.txt</c> (the number of folds, then per fold a count and its lines).
    /// </summary>
    public static IReadOnlyList<FacePerson> ReadLfwPeople(string peopleFile)
    {
        var lines = ReadLines(peopleFile);
        var people = new List<FacePerson>();
        int first = Int(Split(lines[0])[0], peopleFile, 1);
        // people.txt starts with the number of folds, each fold with its count; the dev lists with the count alone.
        bool folded = lines.Count > 1 && Split(lines[1]).Length == 1;
        int line = 1;
        for (int fold = 0; fold < (folded ? first : 1); fold++)
        {
            int count = folded ? Int(Split(lines[line++])[0], peopleFile, line) : first;
            for (int i = 0; i < count; i++, line++)
            {
                if (line >= lines.Count) throw new InvalidDataException($"'{peopleFile}' ends at line {line}.");
                var t = Split(lines[line]);
                if (t.Length != 2) throw new InvalidDataException($"'{peopleFile}' line {line + 1}: expected 'name images', got '{lines[line]}'.");
                people.Add(new FacePerson(t[0], Int(t[1], peopleFile, line + 1), folded ? fold : null));
            }
        }
        return people;
    }

    private static string LfwImage(string root, string name, string number, string file, int line)
        => Path.GetFullPath(Path.Combine(root, name, $"{name}_{Int(number, file, line + 1):D4}.jpg"));

    private static void CheckFiles(IEnumerable<string> paths, string listFile)
    {
        var missing = paths.Distinct().Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"{missing.Count} image(s) of '{listFile}' are missing, for example: {string.Join(", ", missing.Take(5))}. Check the image root.", missing[0]);
    }

    private static List<string> ReadLines(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"The list '{file}' does not exist.", file);
        var lines = File.ReadAllLines(file).Where(l => l.Trim().Length > 0).ToList();
        return lines.Count > 0 ? lines : throw new InvalidDataException($"'{file}' is empty.");
    }

    private static string[] Split(string line) => line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);

    private static int Int(string text, string file, int line)
        => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
            : throw new InvalidDataException($"'{file}' line {line}: '{text}' is not a number.");

    // A header names its columns: a third field that is no "same" value, or a fold field that is no number.
    private static bool IsHeader(string[] fields)
        => fields.Length >= 3 && (!TryParseSame(fields[2], out _) || (fields.Length == 4 && !int.TryParse(fields[3], out _))
            || fields[0].Equals("path1", StringComparison.OrdinalIgnoreCase));

    private static bool TryParseSame(string text, out bool same)
    {
        switch (text.ToLowerInvariant())
        {
            case "1" or "true" or "same" or "yes": same = true; return true;
            case "0" or "false" or "different" or "no": same = false; return true;
            default: same = false; return false;
        }
    }
}
