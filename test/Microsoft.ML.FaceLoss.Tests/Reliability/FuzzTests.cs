using System.Diagnostics;
using System.Text;
using Microsoft.ML.FaceLoss.Data;
using Microsoft.ML.FaceLoss.Tests.Infrastructure;
using Microsoft.ML.FaceLoss.Training;

namespace Microsoft.ML.FaceLoss.Tests.Reliability;

/// <summary>
/// The readers of outside bytes fed random, truncated and bit-flipped input (seeded): each case ends
/// in a result or a precise exception within a time bound, never a hang, a crash or an out-of-memory.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class FuzzTests : IDisposable
{
    private const int CasesPerKind = 25;
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);
    private readonly TinyImageModel _tiny = new();

    public void Dispose() => _tiny.Dispose();

    /// <summary>Random bytes, prefixes of <paramref name="valid"/> and copies of it with 1 to 8 bits flipped.</summary>
    private static IEnumerable<(string Kind, byte[] Bytes)> Mutations(byte[] valid, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < CasesPerKind; i++)
        {
            var bytes = new byte[random.Next(0, 2 * valid.Length + 16)];
            random.NextBytes(bytes);
            yield return ("random", bytes);
        }
        for (int i = 0; i < CasesPerKind; i++)
            yield return ("truncated", valid.AsSpan(0, random.Next(0, valid.Length)).ToArray());
        for (int i = 0; i < CasesPerKind; i++)
        {
            var bytes = valid.ToArray();
            for (int flips = random.Next(1, 9); flips > 0; flips--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            yield return ("bit-flipped", bytes);
        }
    }

    /// <summary>Runs every mutation through <paramref name="read"/>; fails on a hang, an exception outside <paramref name="allowed"/>, or an allocation beyond 256 MB.</summary>
    private static void Fuzz(string what, byte[] valid, int seed, Action<byte[]> read, params Type[] allowed)
    {
        int results = 0, refusals = 0;
        foreach (var (kind, bytes) in Mutations(valid, seed))
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var task = Task.Run(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                read(bytes);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            });
            try
            {
                Assert.True(task.Wait(TimeBound), $"{what}: a {kind} input of {bytes.Length} bytes did not finish within {TimeBound.TotalSeconds} s.");
                Assert.True(task.Result < 256L << 20, $"{what}: a {kind} input of {bytes.Length} bytes allocated {task.Result >> 20} MB.");
                results++;
            }
            catch (AggregateException e) when (e.InnerException is { } inner)
            {
                Assert.True(allowed.Any(t => t.IsInstanceOfType(inner)), $"{what}: a {kind} input of {bytes.Length} bytes gave {inner.GetType().Name}: {inner.Message}");
                Assert.False(string.IsNullOrWhiteSpace(inner.Message));
                refusals++;
            }
        }
        Assert.True(refusals > 0, $"{what}: nothing was refused, so the fuzzing did not reach the checks.");
        Assert.Equal(3 * CasesPerKind, results + refusals);
    }

    [Fact]
    public void TheNetpbmDecoderRefusesBadBytesPrecisely()
    {
        var binary = Encoding.ASCII.GetBytes("P5\n# a comment\n8 6\n255\n").Concat(Enumerable.Range(0, 48).Select(i => (byte)(i * 5))).ToArray();
        var plain = Encoding.ASCII.GetBytes("P2\n4 3\n15\n" + string.Join(" ", Enumerable.Range(0, 12).Select(i => i % 16)) + "\n");
        Fuzz("P5", binary, 1, bytes => NetpbmDecoder.Decode(bytes).Dispose(), typeof(InvalidDataException));
        Fuzz("P2", plain, 2, bytes => NetpbmDecoder.Decode(bytes).Dispose(), typeof(InvalidDataException));
    }

    [Fact]
    public void ThePairsReadersRefuseBadListsPrecisely()
    {
        // An LFW-like folder (name/name_0001.jpg; the readers only check that the images exist).
        string root = Path.Combine(_tiny.Folder, "lfw");
        foreach (int person in Enumerable.Range(0, 4))
        {
            string name = $"person{person:D4}";
            Directory.CreateDirectory(Path.Combine(root, name));
            foreach (int image in Enumerable.Range(1, 3)) File.WriteAllBytes(Path.Combine(root, name, $"{name}_{image:D4}.jpg"), Array.Empty<byte>());
            File.WriteAllBytes(Path.Combine(root, name, "00.png"), Array.Empty<byte>());
            File.WriteAllBytes(Path.Combine(root, name, "01.png"), Array.Empty<byte>());
        }
        string lfw = "1\t2\nperson0000\t1\t2\nperson0001\t2\t3\nperson0000\t1\tperson0001\t1\nperson0002\t2\tperson0003\t3\n";
        string csv = "path1,path2,same,fold\nperson0000/00.png,person0000/01.png,1,0\nperson0001/00.png,person0002/00.png,0,0\n";
        Assert.Equal(4, ProtocolReaders.ReadPairs(WriteTemp("valid.txt", Encoding.ASCII.GetBytes(lfw)), root).Pairs.Count);
        Fuzz("pairs.txt", Encoding.ASCII.GetBytes(lfw), 3, bytes => ProtocolReaders.ReadPairs(WriteTemp("pairs.txt", bytes), root),
            typeof(InvalidDataException), typeof(FileNotFoundException));
        Fuzz("pairs.csv", Encoding.ASCII.GetBytes(csv), 4, bytes => ProtocolReaders.ReadPairs(WriteTemp("pairs.csv", bytes), root),
            typeof(InvalidDataException), typeof(FileNotFoundException));
    }

    [Fact]
    public void TheModelLoaderRefusesBadFilesPrecisely()
    {
        byte[] valid = File.ReadAllBytes(_tiny.Save());
        Fuzz("model.zip", valid, 5, bytes =>
        {
            var model = new MLContext().FaceRecognition().LoadModel(WriteTemp("fuzzed.zip", bytes), out _);
            (model as IDisposable)?.Dispose();
        }, typeof(InvalidDataException));
    }

    [Fact]
    public void TheCheckpointReaderRefusesBadFilesPrecisely()
    {
        var ml = new MLContext(seed: 1);
        string folder = Path.Combine(_tiny.Folder, "checkpoint");
        var options = SyntheticImages.TinyOptions(epochs: 1);
        options.CheckpointFolder = folder;
        SyntheticImages.Pipeline(ml, options).Fit(SyntheticImages.Load(ml)).LastTransformer.Dispose();
        byte[] valid = File.ReadAllBytes(TrainingCheckpoint.PathIn(folder));
        string fuzzed = Path.Combine(_tiny.Folder, "fuzzed-checkpoint");
        Fuzz("checkpoint.bin", valid, 6, bytes =>
        {
            Directory.CreateDirectory(fuzzed);
            File.WriteAllBytes(TrainingCheckpoint.PathIn(fuzzed), bytes);
            TrainingCheckpoint.TryLoad(fuzzed);
        }, typeof(InvalidDataException));
    }

    private string WriteTemp(string name, byte[] bytes)
    {
        string path = Path.Combine(_tiny.Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
