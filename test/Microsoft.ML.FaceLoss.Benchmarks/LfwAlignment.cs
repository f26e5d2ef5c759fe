using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Detection;

namespace Microsoft.ML.FaceLoss.Benchmarks;

/// <summary>
/// LFW's DevTrain and DevTest images aligned once to a template and kept in a cache folder with
/// LFW's layout (person/person_NNNN.jpg), so that training and verification read aligned faces
/// like any image folder. DetectFaces (input 320, which finds the most LFW faces) and AlignFaces, the face nearest the centre; an
/// image without a face is written as the protocol's centre crop (120 of 250) resized to the
/// template, and counted.
/// </summary>
internal static class LfwAlignment
{
    /// <summary>The cache folder of <paramref name="template"/>: FACELOSS_ALIGNED_CACHE, else a folder in the temp directory.</summary>
    public static string CacheFolder(AlignmentTemplate template)
        => Path.Combine(Environment.GetEnvironmentVariable("FACELOSS_ALIGNED_CACHE") is { Length: > 0 } cache ? cache : Path.Combine(Path.GetTempPath(), "faceloss-lfw-aligned"), template.Name);

    /// <summary>
    /// Aligns the images of peopleDevTrain.txt's people with at least two images and of pairsDevTest.txt into the cache (once;
    /// later calls reuse it). Returns the cache's root and how many images had no face.
    /// </summary>
    public static (string Root, int WithoutFace, int Images) Prepare(string dataRoot, AlignmentTemplate template)
    {
        string root = CacheFolder(template), done = Path.Combine(root, "complete.txt");
        if (File.Exists(done))
        {
            var counts = File.ReadAllText(done).Split(' ');
            return (root, int.Parse(counts[0]), int.Parse(counts[1]));
        }
        string lfw = Path.Combine(dataRoot, "lfw"), images = Path.Combine(lfw, "images_deepfunneled");
        var people = ProtocolReaders.ReadLfwPeople(Path.Combine(lfw, "peopleDevTrain.txt")).Select(p => p.Name).ToHashSet();
        // DevTrain's people with at least two images (the training set), and DevTest's pairs.
        var paths = Directory.GetDirectories(images).Where(d => people.Contains(Path.GetFileName(d))).Select(Directory.GetFiles).Where(f => f.Length >= 2).SelectMany(f => f)
            .Concat(ProtocolReaders.ReadPairs(Path.Combine(lfw, "pairsDevTest.txt"), images).Pairs.SelectMany(p => new[] { p.ImagePath1, p.ImagePath2 }))
            .Distinct().OrderBy(p => p, StringComparer.Ordinal).ToList();

        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(paths.Select(p => new FaceImageRow { ImagePath = p }));
        var pipeline = ml.Transforms.LoadImagesWithNetpbm("Image", null, "ImagePath")
            .Append(ml.FaceRecognition().Transforms.DetectFaces(new DetectFacesEstimator.Options { Detector = new FaceDetectorOptions { InputSize = 320 } }))
            .Append(ml.FaceRecognition().Transforms.AlignFaces(new AlignFacesEstimator.Options { Template = template, Selection = FaceSelection.NearestCenter }))
            .Append(ml.Transforms.CropImagesToCenter("CentreCrop", 120.0 / 250, "Image"))
            .Append(ml.Transforms.ResizeImages("CentreCrop", template.Size, template.Size));
        var output = pipeline.Fit(rows).Transform(rows);
        using var cursor = output.GetRowCursor(output.Schema);
        var getPath = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema["ImagePath"]);
        var getAligned = cursor.GetGetter<MLImage>(cursor.Schema["AlignedImage"]);
        var getCrop = cursor.GetGetter<MLImage>(cursor.Schema["CentreCrop"]);
        ReadOnlyMemory<char> path = default;
        int withoutFace = 0;
        while (cursor.MoveNext())
        {
            getPath(ref path);
            // A fresh variable each row: the getter hands out a new image, which is disposed once saved.
            MLImage aligned = null!;
            getAligned(ref aligned);
            string source = path.ToString();
            string target = Path.Combine(root, Path.GetFileName(Path.GetDirectoryName(source)) ?? "", Path.GetFileName(source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (aligned is null)
            {
                withoutFace++;
                MLImage crop = null!;
                getCrop(ref crop);
                crop.Save(target);
                crop.Dispose();
                continue;
            }
            aligned.Save(target);
            aligned.Dispose();
        }
        File.WriteAllText(done, $"{withoutFace} {paths.Count}");
        return (root, withoutFace, paths.Count);
    }
}
