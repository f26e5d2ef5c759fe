// Build tool: copies an assembly and makes its non-public types and members public by rewriting the
// access bits of the TypeDef, MethodDef and Field tables in place. Virtual members that derived
// classes override become protected, so that an override compiles as C# requires; compiler-generated
// members and explicit interface implementations keep their access. See
// build/PublicizeReferences.targets for why. Usage: Publicizer <source.dll> <destination.dll>
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: Publicizer <source.dll> <destination.dll>");
            return 2;
        }
        string source = args[0], destination = args[1];
        byte[] image = File.ReadAllBytes(source);
        int changed;
        using (var pe = new PEReader(new MemoryStream(image)))
        {
            changed = Publicize(pe.GetMetadataReader(), image, pe.PEHeaders.MetadataStartOffset);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        string temporary = destination + ".tmp";
        File.WriteAllBytes(temporary, image);
        File.Move(temporary, destination, overwrite: true);
        Console.WriteLine($"Publicized {changed} types and members: {destination}");
        return 0;
    }

    private static int Publicize(MetadataReader md, byte[] image, int metadataStart)
    {
        int changed = 0;
        int typeTable = metadataStart + md.GetTableMetadataOffset(TableIndex.TypeDef);
        int typeRow = md.GetTableRowSize(TableIndex.TypeDef);
        int methodTable = metadataStart + md.GetTableMetadataOffset(TableIndex.MethodDef);
        int methodRow = md.GetTableRowSize(TableIndex.MethodDef);
        int fieldTable = metadataStart + md.GetTableMetadataOffset(TableIndex.Field);
        int fieldRow = md.GetTableRowSize(TableIndex.Field);

        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            string typeName = md.GetString(type.Name);
            if (typeName == "<Module>" || typeName.Contains("<")) continue;

            // TypeDef row: Flags (4 bytes) first.
            int typeOffset = typeTable + (MetadataTokens.GetRowNumber(typeHandle) - 1) * typeRow;
            uint typeFlags = BitConverter.ToUInt32(image, typeOffset);
            uint visibility = typeFlags & 0x7;
            bool nested = type.IsNested;
            uint wanted = nested ? 2u : 1u; // NestedPublic : Public
            if (visibility != wanted)
            {
                WriteUInt32(image, typeOffset, (typeFlags & ~0x7u) | wanted);
                changed++;
            }

            var eventNames = new HashSet<string>();
            foreach (var e in type.GetEvents()) eventNames.Add(md.GetString(md.GetEventDefinition(e).Name));

            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                string name = md.GetString(method.Name);
                if (name.Contains("<")) continue;
                // MethodDef row: RVA (4), ImplFlags (2), Flags (2).
                int offset = methodTable + (MetadataTokens.GetRowNumber(methodHandle) - 1) * methodRow + 6;
                ushort flags = BitConverter.ToUInt16(image, offset);
                int access = flags & 0x7;
                bool isVirtual = (flags & 0x40) != 0;
                bool isFinal = (flags & 0x20) != 0;
                if (access == 1 && isVirtual && isFinal) continue; // explicit interface implementation
                int target = isVirtual && (access == 2 || access == 4 || access == 5) ? 4 : 6; // Family : Public
                if (access != target)
                {
                    WriteUInt16(image, offset, (ushort)((flags & ~0x7) | target));
                    changed++;
                }
            }

            foreach (var fieldHandle in type.GetFields())
            {
                var field = md.GetFieldDefinition(fieldHandle);
                string name = md.GetString(field.Name);
                if (name.Contains("<") || eventNames.Contains(name)) continue;
                int offset = fieldTable + (MetadataTokens.GetRowNumber(fieldHandle) - 1) * fieldRow;
                ushort flags = BitConverter.ToUInt16(image, offset);
                if ((flags & 0x7) != 6)
                {
                    WriteUInt16(image, offset, (ushort)((flags & ~0x7) | 6));
                    changed++;
                }
            }
        }
        return changed;
    }

    private static void WriteUInt16(byte[] image, int offset, ushort value)
    {
        image[offset] = (byte)value;
        image[offset + 1] = (byte)(value >> 8);
    }

    private static void WriteUInt32(byte[] image, int offset, uint value)
    {
        for (int i = 0; i < 4; i++) image[offset + i] = (byte)(value >> (8 * i));
    }
}
