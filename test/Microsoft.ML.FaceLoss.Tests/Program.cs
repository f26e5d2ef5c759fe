using System.Globalization;

namespace Microsoft.ML.FaceLoss.Tests;

/// <summary>
/// The test assembly is also a tiny command-line tool, so that a test can load a saved model in a
/// fresh process exactly as an application would: no registration call, a new MLContext.
/// <c>dotnet exec Microsoft.ML.FaceLoss.Tests.dll embed &lt;model.zip&gt; &lt;image&gt;...</c> prints one
/// line of embedding values per image; <c>gc-stress &lt;seconds&gt;</c> runs rounds of
/// <see cref="Testing.GcStress.QuickPlan"/> under forced garbage collection for at least that long and
/// prints its report as JSON on the last line; <c>partial-fc-step &lt;identities&gt; &lt;D&gt; &lt;rate&gt;</c> trains
/// one step of Partial FC ArcFace and prints its memory as JSON; <c>mpi-data-parallel</c> and
/// <c>mpi-sharded-heads</c> are what each rank of the distributed tests' <c>mpirun</c> jobs runs.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["gc-stress", var seconds])
        {
            var cases = Testing.GcStress.Rounds(Testing.GcStress.QuickPlan(), double.Parse(seconds, CultureInfo.InvariantCulture));
            var report = Testing.GcStress.Run(cases, budget: null, Console.WriteLine);
            Console.WriteLine(report.ToJson());
            return 0;
        }
        if (args is ["save-loop", var source, var target])
            SaveLoop(source, target);
        if (args is ["partial-fc-step", var identities, var embedding, var sampleRate])
        {
            Console.WriteLine(Scale.PartialFcStep.Run(int.Parse(identities, CultureInfo.InvariantCulture), int.Parse(embedding, CultureInfo.InvariantCulture), Scale.PartialFcStep.Parse(sampleRate)));
            return 0;
        }
        if (args is ["mpi-data-parallel", var folder, var shard, var epochs, .. var rest])
        {
            Distributed.MpiWorker.DataParallel(folder, bool.Parse(shard), int.Parse(epochs, CultureInfo.InvariantCulture),
                rest.FirstOrDefault(a => a is not ("validate" or "mismatch")), validate: rest.Contains("validate"), mismatch: rest.Contains("mismatch"));
            return 0;
        }
        if (args is ["mpi-sharded-heads", var output])
        {
            Distributed.MpiWorker.ShardedHeads(output);
            return 0;
        }
        if (args.Length < 3 || args[0] != "embed")
        {
            Console.Error.WriteLine("usage: embed <model.zip> <image>... | gc-stress <seconds>");
            return 2;
        }
        var ml = new MLContext();
        var model = ml.Model.Load(args[1], out _);
        var rows = args.Skip(2).Select(path => new ImageRow { ImagePath = path }).ToList();
        var embedded = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false);
        foreach (var row in embedded)
            Console.WriteLine(string.Join(" ", row.Embedding.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return 0;
    }

    /// <summary>Saves a model over and over (a test kills this process in the middle of a save).</summary>
    private static void SaveLoop(string source, string target)
    {
        var context = new MLContext();
        var loaded = context.FaceRecognition().LoadModel(source, out var schema);
        for (int i = 1; ; i++)
        {
            context.FaceRecognition().SaveModel(loaded, schema, target);
            Console.WriteLine($"saved {i}");
        }
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";

        public string Identity { get; set; } = "";
    }

    private sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}
