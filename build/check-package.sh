#!/usr/bin/env bash
# Checks the NuGet package as a user gets it: packs Microsoft.ML.FaceLoss, builds a console app
# outside this repository that references only the package (and a LibTorch backend), and runs it.
# The app must find the GC-safe TorchSharp.dll that the package's buildTransitive targets weave and
# load LibTorch (the loader fix), then train tiny models while another thread forces garbage
# collections. Usage: build/check-package.sh [seconds of stress, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
work="$(mktemp -d)"
# A version of its own, so that the NuGet cache never serves an earlier build of the package.
version="0.1.0-check.$(date +%s)"
trap 'rm -rf "$work" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.faceloss/$version" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.faceloss.inference/$version"' EXIT

# Microsoft.ML.FaceLoss depends on Microsoft.ML.FaceLoss.Inference (of the same version).
dotnet pack src/Microsoft.ML.FaceLoss.Inference -c Release -o "$work/feed" -p:Version="$version" >/dev/null
dotnet pack src/Microsoft.ML.FaceLoss -c Release -o "$work/feed" -p:Version="$version" >/dev/null
mkdir -p "$work/app"
cat > "$work/app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
EOF
cat > "$work/app/App.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.ML.FaceLoss" Version="$version" />
    <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
  </ItemGroup>
</Project>
EOF
cat > "$work/app/Program.cs" <<'EOF'
using System.Diagnostics;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss;
using Microsoft.ML.FaceLoss.Losses;
using Microsoft.ML.FaceLoss.Training;

var marker = typeof(TorchSharp.torch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
    .FirstOrDefault(a => a.Key == "Microsoft.ML.FaceLoss.GcSafe");
Console.WriteLine($"TorchSharp.dll: {typeof(TorchSharp.torch).Assembly.Location}; GC-safe marker: {marker?.Value ?? "none"}");
if (marker is null) return 1;

long collections = 0;
bool stop = false;
var collector = new Thread(() => { while (!Volatile.Read(ref stop)) { GC.Collect(); GC.WaitForPendingFinalizers(); collections++; } }) { IsBackground = true };
collector.Start();
var clock = Stopwatch.StartNew();
int fits = 0;
var random = new Random(1);
var rows = Enumerable.Range(0, 48).Select(i => new Row { Identity = $"id{i % 8}", Features = Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)random.NextDouble()).ToArray() }).ToList();
string[] heads = { "ArcFace", "CenterLoss", "Triplet", "AdaCos", "LargeMarginSoftmax" };
while (clock.Elapsed.TotalSeconds < double.Parse(args[0]))
{
    var ml = new MLContext(fits);
    var data = ml.Data.LoadFromEnumerable(rows);
    var options = new FaceEmbeddingTrainer.Options { EmbeddingSize = 8, BackboneWidth = 4, Loss = FaceLossHeads.CreateSmallDataOptions(heads[fits % heads.Length]), Epochs = 2, BatchSize = 16, Seed = fits };
    var model = ml.Transforms.Conversion.MapValueToKey("Label", "Identity").Append(ml.FaceRecognition().Trainers.Embedding(options)).Fit(data);
    int embedded = ml.Data.CreateEnumerable<Output>(model.Transform(data), reuseRowObject: true).Count(o => o.Embedding.Length == 8);
    if (embedded != rows.Count) return 2;
    model.LastTransformer.Dispose();
    fits++;
}
Volatile.Write(ref stop, true);
collector.Join();
Console.WriteLine($"{fits} fits, {collections} forced collections, no crash");
return 0;

class Row
{
    [VectorType(3, 16, 16)] public float[] Features { get; set; } = [];
    public string Identity { get; set; } = "";
}

class Output
{
    public float[] Embedding { get; set; } = [];
}
EOF

dotnet build "$work/app" -c Release -v minimal
dotnet "$work/app/bin/Release/net10.0/App.dll" "$seconds"
echo "Package check passed: an application that references only the package trains under forced garbage collection."
