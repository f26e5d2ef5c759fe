using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Microsoft.ML.FaceLoss.Build;

/// <summary>
/// Rewrites TorchSharp.dll so that no object holding a native handle can be finalized while a native
/// call made on its behalf is still running.
/// </summary>
/// <remarks>
/// TorchSharp's <c>Scalar</c> and <c>Tensor</c> (and a few more types) keep a raw <c>IntPtr</c> and free
/// it in their finalizer. A method such as <c>Tensor.add_(Scalar)</c> reads <c>scalar.Handle</c> and
/// passes it to LibTorch; from then on the JIT considers the Scalar dead, so a garbage collection on
/// any thread may finalize it (freeing the native scalar) while LibTorch still reads it, which aborts
/// the process. Implicit conversions (<c>t * 0.5</c>, <c>add_(1)</c>) make such unreferenced objects
/// all the time, in TorchSharp's own modules and optimizers too. The cure is the one the .NET
/// documentation gives for handles read out of finalizable objects: <c>GC.KeepAlive</c> after the
/// native call. The weaver adds, before every <c>ret</c> of every method, a <c>GC.KeepAlive</c> of each
/// parameter, local and <c>this</c> that holds such an object (or an array or collection of them);
/// spans of them are passed to a non-inlined no-op. The JIT treats <c>GC.KeepAlive</c> as an
/// intrinsic that only extends a lifetime, so the cost is nil. The weaver changes nothing else, keeps
/// the assembly identity (the strong-name signature becomes invalid, which .NET does not check), and
/// stamps the result with an <see cref="System.Reflection.AssemblyMetadataAttribute"/> keyed
/// <see cref="MarkerKey"/>, so that the library can tell at run time whether it runs on a woven copy.
/// </remarks>
public static class KeepAliveWeaver
{
    /// <summary>Key of the assembly metadata attribute that marks a woven assembly.</summary>
    public const string MarkerKey = "Microsoft.ML.FaceLoss.GcSafe";

    /// <summary>Version of the weaving rules; part of the marker's value.</summary>
    public const string RulesVersion = "1";

    private const string HelperTypeName = "<FaceLossGcSafe>KeepAlive";

    /// <summary>Weaves <paramref name="inputPath"/> into <paramref name="outputPath"/> (written atomically).</summary>
    /// <returns>What was changed; <see cref="WeaveResult.AlreadyWoven"/> when the input carries the marker (it is then copied unchanged).</returns>
    public static WeaveResult Weave(string inputPath, string outputPath)
    {
        using var module = ModuleDefinition.ReadModule(inputPath, new ReaderParameters { ReadingMode = ReadingMode.Immediate, InMemory = true });
        var result = new WeaveResult();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        string temporary = outputPath + ".weaving";
        if (FindMarker(module) is not null)
        {
            result.AlreadyWoven = true;
            File.Copy(inputPath, temporary, overwrite: true);
        }
        else
        {
            new Rewriter(module, result).Run();
            // The strong-name signature no longer matches the bytes; say so instead of carrying a false flag.
            module.Attributes &= ~ModuleAttributes.StrongNameSigned;
            module.Write(temporary);
        }
        if (File.Exists(outputPath)) File.Delete(outputPath);
        File.Move(temporary, outputPath);
        return result;
    }

    /// <summary>The marker's value when the module is woven; null otherwise.</summary>
    public static string? FindMarker(ModuleDefinition module) =>
        module.Assembly.CustomAttributes
            .Where(a => a.AttributeType.FullName == "System.Reflection.AssemblyMetadataAttribute" && a.ConstructorArguments.Count == 2)
            .Where(a => (a.ConstructorArguments[0].Value as string) == MarkerKey)
            .Select(a => a.ConstructorArguments[1].Value as string)
            .FirstOrDefault();

    private sealed class Rewriter
    {
        private readonly ModuleDefinition _module;
        private readonly WeaveResult _result;
        private readonly Dictionary<string, TypeDefinition> _types;
        private readonly HashSet<TypeDefinition> _handleHolders = new();
        private readonly Dictionary<TypeDefinition, bool> _holdsHandleFields = new();
        private readonly MethodReference _keepAlive;
        private MethodDefinition? _keepSpanAlive, _keepReadOnlySpanAlive;
        private TypeDefinition? _helperType;

        public Rewriter(ModuleDefinition module, WeaveResult result)
        {
            _module = module;
            _result = result;
            _types = module.GetTypes().ToDictionary(t => t.FullName, StringComparer.Ordinal);
            var gc = new TypeReference("System", "GC", module, module.TypeSystem.CoreLibrary);
            _keepAlive = new MethodReference("KeepAlive", module.TypeSystem.Void, gc) { HasThis = false };
            _keepAlive.Parameters.Add(new ParameterDefinition(module.TypeSystem.Object));
        }

        public void Run()
        {
            FindHandleHolders();
            foreach (var type in _module.GetTypes().ToList())
            {
                if (type == _helperType) continue;
                foreach (var method in type.Methods)
                {
                    if (!method.HasBody) continue;
                    if (WeaveMethod(method)) _result.Methods++;
                }
            }
            AddMarker();
        }

        /// <summary>Types with a finalizer (they free a native resource) and every type derived from one.</summary>
        private void FindHandleHolders()
        {
            foreach (var type in _types.Values)
                if (type.IsClass && !type.IsValueType && type.Methods.Any(m => m.Name == "Finalize" && m.IsVirtual && !m.HasParameters))
                    _handleHolders.Add(type);
            bool grew = true;
            while (grew)
            {
                grew = false;
                foreach (var type in _types.Values)
                {
                    if (_handleHolders.Contains(type)) continue;
                    if (Local(type.BaseType) is TypeDefinition baseType && _handleHolders.Contains(baseType))
                    {
                        _handleHolders.Add(type);
                        grew = true;
                    }
                }
            }
            _result.HandleTypes = _handleHolders.Count;
        }

        /// <summary>The definition in this module that a reference names, or null for types defined elsewhere.</summary>
        private TypeDefinition? Local(TypeReference? reference)
        {
            if (reference is null) return null;
            if (reference is TypeDefinition definition) return definition.Module == _module ? definition : null;
            if (reference is GenericInstanceType generic) return Local(generic.ElementType);
            if (reference.Scope is ModuleDefinition scope && scope == _module && _types.TryGetValue(reference.FullName, out var found)) return found;
            return null;
        }

        /// <summary>True where a value of this type can reference a handle holder: the type, an array or a generic instance of one.</summary>
        private bool Mentions(TypeReference type, int depth = 0)
        {
            if (depth > 8) return false;
            switch (type)
            {
                case GenericParameter: return false;
                case RequiredModifierType r: return Mentions(r.ElementType, depth + 1);
                case OptionalModifierType o: return Mentions(o.ElementType, depth + 1);
                case ArrayType a: return Mentions(a.ElementType, depth + 1);
                case ByReferenceType or PointerType or PinnedType: return false;
                case GenericInstanceType g:
                    return Mentions(g.ElementType, depth + 1) || g.GenericArguments.Any(arg => Mentions(arg, depth + 1));
            }
            return Local(type) is TypeDefinition definition && _handleHolders.Contains(definition);
        }

        private bool HoldsHandleFields(TypeDefinition type)
        {
            if (_holdsHandleFields.TryGetValue(type, out bool known)) return known;
            _holdsHandleFields[type] = false; // breaks cycles
            bool holds = type.Fields.Any(f => !f.IsStatic && Mentions(f.FieldType))
                || (Local(type.BaseType) is TypeDefinition b && HoldsHandleFields(b));
            _holdsHandleFields[type] = holds;
            return holds;
        }

        private bool WeaveMethod(MethodDefinition method)
        {
            var body = method.Body;
            var keep = new List<Func<List<Instruction>>>();

            if (method.HasThis && !method.DeclaringType.IsValueType
                && (_handleHolders.Contains(method.DeclaringType) || HoldsHandleFields(method.DeclaringType)))
            {
                keep.Add(() => Object(Instruction.Create(OpCodes.Ldarg, body.ThisParameter)));
                _result.ThisKeptAlive++;
            }
            foreach (var parameter in method.Parameters)
                if (KeepAliveOf(parameter.ParameterType, () => Instruction.Create(OpCodes.Ldarg, parameter)) is { } k)
                {
                    keep.Add(k);
                    _result.ParametersKeptAlive++;
                }
            foreach (var variable in body.Variables)
                if (!variable.IsPinned && KeepAliveOf(variable.VariableType, () => Instruction.Create(OpCodes.Ldloc, variable)) is { } k)
                {
                    keep.Add(k);
                    _result.LocalsKeptAlive++;
                }
            if (keep.Count == 0) return false;

            body.SimplifyMacros();
            var il = body.GetILProcessor();
            foreach (var tail in body.Instructions.Where(i => i.OpCode == OpCodes.Tail).ToList())
                il.Remove(tail); // a tail call must be followed by ret; the callee then runs in this frame's place
            foreach (var ret in body.Instructions.Where(i => i.OpCode == OpCodes.Ret).ToList())
            {
                var sequence = keep.SelectMany(k => k()).ToList();
                // Turn the ret itself into the first new instruction, so that every branch to the ret
                // (and an exception handler that ends at it) now reaches the keep-alives first.
                ret.OpCode = sequence[0].OpCode;
                ret.Operand = sequence[0].Operand;
                var previous = ret;
                foreach (var instruction in sequence.Skip(1).Append(Instruction.Create(OpCodes.Ret)))
                {
                    il.InsertAfter(previous, instruction);
                    previous = instruction;
                }
            }
            body.OptimizeMacros();
            return true;
        }

        private List<Instruction> Object(Instruction load) => new() { load, Instruction.Create(OpCodes.Call, _keepAlive) };

        private Func<List<Instruction>>? KeepAliveOf(TypeReference type, Func<Instruction> load)
        {
            while (type is RequiredModifierType or OptionalModifierType)
                type = ((TypeSpecification)type).ElementType;
            if (type is ByReferenceType or PointerType or PinnedType or GenericParameter) return null;
            if (!type.IsValueType)
                return Mentions(type) ? () => Object(load()) : null;
            if (type is GenericInstanceType span && span.Namespace == "System" && (span.Name == "Span`1" || span.Name == "ReadOnlySpan`1")
                && Mentions(span.GenericArguments[0]))
            {
                var helper = SpanHelper(span);
                var call = new GenericInstanceMethod(helper);
                call.GenericArguments.Add(span.GenericArguments[0]);
                _result.SpansKeptAlive++;
                return () => new List<Instruction> { load(), Instruction.Create(OpCodes.Call, call) };
            }
            if (Mentions(type)) _result.ValueTypesSkipped++; // e.g. a tuple of tensors: the caller holds the tensors
            return null;
        }

        /// <summary>A non-inlined no-op taking the span, so that the array behind it stays reachable until the call.</summary>
        private MethodDefinition SpanHelper(GenericInstanceType span)
        {
            bool readOnly = span.Name == "ReadOnlySpan`1";
            var existing = readOnly ? _keepReadOnlySpanAlive : _keepSpanAlive;
            if (existing is not null) return existing;
            if (_helperType is null)
            {
                _helperType = new TypeDefinition("", HelperTypeName,
                    TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit,
                    _module.TypeSystem.Object);
                _module.Types.Add(_helperType);
            }
            var method = new MethodDefinition(readOnly ? "ReadOnlySpan" : "Span",
                MethodAttributes.Assembly | MethodAttributes.Static | MethodAttributes.HideBySig, _module.TypeSystem.Void)
            {
                ImplAttributes = MethodImplAttributes.NoInlining,
            };
            var t = new GenericParameter("T", method);
            method.GenericParameters.Add(t);
            var parameterType = new GenericInstanceType(span.ElementType);
            parameterType.GenericArguments.Add(t);
            method.Parameters.Add(new ParameterDefinition("span", ParameterAttributes.None, parameterType));
            method.Body.GetILProcessor().Emit(OpCodes.Ret);
            _helperType.Methods.Add(method);
            if (readOnly) _keepReadOnlySpanAlive = method; else _keepSpanAlive = method;
            return method;
        }

        private void AddMarker()
        {
            var attributeType = new TypeReference("System.Reflection", "AssemblyMetadataAttribute", _module, _module.TypeSystem.CoreLibrary);
            var constructor = new MethodReference(".ctor", _module.TypeSystem.Void, attributeType) { HasThis = true };
            constructor.Parameters.Add(new ParameterDefinition(_module.TypeSystem.String));
            constructor.Parameters.Add(new ParameterDefinition(_module.TypeSystem.String));
            var marker = new CustomAttribute(constructor);
            marker.ConstructorArguments.Add(new CustomAttributeArgument(_module.TypeSystem.String, MarkerKey));
            marker.ConstructorArguments.Add(new CustomAttributeArgument(_module.TypeSystem.String,
                $"rules {RulesVersion}; {_result.Methods} methods; {_result.HandleTypes} handle types"));
            _module.Assembly.CustomAttributes.Add(marker);
        }
    }
}

/// <summary>What <see cref="KeepAliveWeaver.Weave"/> changed.</summary>
public sealed class WeaveResult
{
    /// <summary>True when the input was woven already and was copied unchanged.</summary>
    public bool AlreadyWoven { get; set; }

    /// <summary>Types that free a native resource in a finalizer, and their subclasses.</summary>
    public int HandleTypes { get; set; }

    /// <summary>Methods that received keep-alives.</summary>
    public int Methods { get; set; }

    /// <summary>Instance methods whose <c>this</c> is kept alive.</summary>
    public int ThisKeptAlive { get; set; }

    /// <summary>Parameters kept alive.</summary>
    public int ParametersKeptAlive { get; set; }

    /// <summary>Locals kept alive.</summary>
    public int LocalsKeptAlive { get; set; }

    /// <summary>Span parameters and locals whose array is kept reachable.</summary>
    public int SpansKeptAlive { get; set; }

    /// <summary>Value-type parameters and locals (such as tuples of tensors) that are not kept alive; their tensors belong to the caller.</summary>
    public int ValueTypesSkipped { get; set; }

    /// <inheritdoc />
    public override string ToString() => AlreadyWoven
        ? "already woven"
        : $"{Methods} methods: this {ThisKeptAlive}, parameters {ParametersKeptAlive}, locals {LocalsKeptAlive}, spans {SpansKeptAlive}; {ValueTypesSkipped} value types skipped; {HandleTypes} handle types";
}
