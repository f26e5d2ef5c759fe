// CoreCLR lets an assembly that carries this attribute reach the non-public members of the named
// assembly. Together with the publicized compile-time references (build/PublicizeReferences.targets)
// it gives Persistence/ the ML.NET model-file API that ML.NET's own extensions use.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Declares that this assembly may access the non-public members of another assembly.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        /// <summary>Creates the attribute for the assembly of the given simple name.</summary>
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        /// <summary>The simple name of the assembly whose access checks are ignored.</summary>
        public string AssemblyName { get; }
    }
}
