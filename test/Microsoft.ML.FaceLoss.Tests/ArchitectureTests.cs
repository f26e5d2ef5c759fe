using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Microsoft.ML.FaceLoss.Tests;

/// <summary>
/// The shape of the library, read from its compiled IL: folders (namespaces) do not import each other
/// in circles, and only Persistence uses ML.NET's internal members (see docs/architecture.md).
/// </summary>
public sealed class ArchitectureTests
{
    private const string Root = "Microsoft.ML.FaceLoss";

    /// <summary>The library's assemblies: the part without TorchSharp (Inference), the training part, the ONNX export.</summary>
    private static readonly Lazy<ModuleDefinition[]> Libraries = new(() =>
    {
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        return new[] { typeof(FaceRecognitionCatalog), typeof(FaceRecognitionTrainingExtensions), typeof(Microsoft.ML.FaceLoss.Onnx.OnnxExportCatalog) }
            .Select(t => ModuleDefinition.ReadModule(t.Assembly.Location, new ReaderParameters { AssemblyResolver = resolver }))
            .ToArray();
    });

    private static ModuleDefinition Inference => Libraries.Value[0];

    /// <summary>Every type the library's types use: base types, fields, signatures, and every type, method and field their code touches.</summary>
    private static IEnumerable<(TypeDefinition User, TypeReference Used)> Uses()
    {
        foreach (var type in Libraries.Value.SelectMany(l => l.GetTypes()))
        {
            if (type.BaseType is not null) yield return (type, type.BaseType);
            foreach (var face in type.Interfaces) yield return (type, face.InterfaceType);
            foreach (var field in type.Fields) yield return (type, field.FieldType);
            foreach (var method in type.Methods)
            {
                yield return (type, method.ReturnType);
                foreach (var parameter in method.Parameters) yield return (type, parameter.ParameterType);
                if (!method.HasBody) continue;
                foreach (var variable in method.Body.Variables) yield return (type, variable.VariableType);
                foreach (var instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: yield return (type, t); break;
                        case MemberReference m: yield return (type, m.DeclaringType); break;
                    }
                }
            }
        }
    }

    private static IEnumerable<TypeReference> Flatten(TypeReference type)
    {
        switch (type)
        {
            case GenericInstanceType generic:
                foreach (var t in Flatten(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Flatten))) yield return t;
                break;
            case TypeSpecification specification:
                foreach (var t in Flatten(specification.ElementType)) yield return t;
                break;
            default:
                yield return type;
                break;
        }
    }

    /// <summary>The library folder (sub-namespace of Microsoft.ML.FaceLoss) of a type, or null for the root and for other assemblies.</summary>
    private static string? Folder(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        if (!Libraries.Value.Any(l => type.Scope == l || type.Scope.Name == l.Name || type.Scope.Name == l.Assembly.Name.Name)) return null;
        string ns = type.Namespace;
        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal)) return null;
        return ns[(Root.Length + 1)..].Split('.')[0];
    }

    [Fact]
    public void FoldersDoNotImportEachOtherInCircles()
    {
        var edges = Uses()
            .SelectMany(u => Flatten(u.Used).Select(used => (From: Folder(u.User), To: Folder(used))))
            .Where(e => e.From is not null && e.To is not null && e.From != e.To)
            .Select(e => (e.From!, e.To!))
            .ToHashSet();
        Assert.NotEmpty(edges);
        var folders = edges.SelectMany(e => new[] { e.Item1, e.Item2 }).Distinct().ToList();
        foreach (var folder in folders)
        {
            // Every folder this one reaches must not reach it back.
            var reached = new HashSet<string>();
            var pending = new Stack<string>(edges.Where(e => e.Item1 == folder).Select(e => e.Item2));
            while (pending.TryPop(out var next))
            {
                if (!reached.Add(next)) continue;
                foreach (var e in edges.Where(e => e.Item1 == next)) pending.Push(e.Item2);
            }
            Assert.False(reached.Contains(folder),
                $"{folder} reaches itself through {string.Join(", ", reached.Where(r => edges.Contains((r, folder))))}; edges: {string.Join(", ", edges.Where(e => e.Item1 == folder || e.Item2 == folder))}");
        }
    }

    [Fact]
    public void OnlyPersistenceUsesMLNetInternals()
    {
        var offenders = new SortedSet<string>();
        foreach (var type in Libraries.Value.SelectMany(l => l.GetTypes()))
        {
            string? folder = Folder(type);
            if (folder == "Persistence") continue;
            foreach (var method in type.Methods.Where(m => m.HasBody))
                foreach (var instruction in method.Body.Instructions)
                    if (instruction.Operand is MemberReference member && IsMLNetInternal(member))
                        offenders.Add($"{type.FullName}.{method.Name} uses {member.FullName}");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    private static bool IsMLNetInternal(MemberReference member)
    {
        var declaring = member is TypeReference t ? t : member.DeclaringType;
        if (declaring is null) return false;
        while (declaring is TypeSpecification specification) declaring = specification.ElementType;
        string scope = declaring.Scope.Name;
        if (!scope.StartsWith("Microsoft.ML", StringComparison.Ordinal) || scope.StartsWith(Root, StringComparison.Ordinal)) return false;
        IMemberDefinition? definition;
        try { definition = member.Resolve(); }
        catch (AssemblyResolutionException) { return false; }
        if (definition is null) return false;
        for (var type = definition as TypeDefinition ?? definition.DeclaringType; type is not null; type = type.DeclaringType)
            if (!(type.IsPublic || type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamilyOrAssembly)) return true;
        return definition switch
        {
            MethodDefinition m => m.IsAssembly || m.IsFamilyAndAssembly || m.IsPrivate,
            FieldDefinition f => f.IsAssembly || f.IsFamilyAndAssembly || f.IsPrivate,
            _ => false,
        };
    }

    [Fact]
    public void TheInferenceAssemblyNeedsNeitherTorchSharpNorTheTrainingAssembly()
    {
        var references = Inference.AssemblyReferences.Select(r => r.Name).ToList();
        Assert.Equal("Microsoft.ML.FaceLoss.Inference", Inference.Assembly.Name.Name);
        Assert.DoesNotContain("TorchSharp", references);
        Assert.DoesNotContain("Microsoft.ML.FaceLoss", references);
        Assert.DoesNotContain(Inference.GetTypes(), t => t.Namespace.EndsWith(".Torch", StringComparison.Ordinal));
    }

    [Fact]
    public void TheOnnxSampleRunsWithoutTorchSharp()
    {
        var sample = ModuleDefinition.ReadModule(typeof(FaceVerification.Onnx.OnnxVerificationApp).Assembly.Location);
        var references = sample.AssemblyReferences.Select(r => r.Name).ToList();
        Assert.Contains("Microsoft.ML.FaceLoss.Inference", references);
        Assert.DoesNotContain("TorchSharp", references);
        Assert.DoesNotContain("Microsoft.ML.FaceLoss", references);
        // Its own build output holds no TorchSharp and no LibTorch: its deps file lists every library it loads.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)); // test/<project>/bin/<configuration>/<framework>
        var repository = output.Parent!.Parent!.Parent!.Parent!.Parent!;
        string deps = Path.Combine(repository.FullName, "samples", "FaceVerification.Onnx", "bin", output.Parent!.Name, output.Name, "FaceVerification.Onnx.deps.json");
        Assert.True(File.Exists(deps), $"No {deps}: build the solution.");
        string text = File.ReadAllText(deps);
        Assert.Contains("Microsoft.ML.OnnxRuntime", text);
        Assert.DoesNotContain("TorchSharp", text);
        Assert.DoesNotContain("libtorch", text);
    }
}
