using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>Reads whole columns of a data view, with errors that name the column and the type expected.</summary>
internal static class DataViewColumns
{
    public static DataViewSchema.Column Find(IDataView data, string name, string role)
        => data.Schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(name), $"The data has no {role} column '{name}'.");

    public static List<float[]> Vectors(IDataView data, string name)
    {
        var column = Find(data, name, "embedding");
        if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for embedding column '{name}': expected Vector<Single>, got {column.Type}.");
        var result = new List<float[]>();
        using var cursor = data.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            result.Add(buffer.DenseValues().ToArray());
        }
        return result;
    }

    public static List<double> Numbers(IDataView data, string name, string role)
    {
        var column = Find(data, name, role);
        var result = new List<double>();
        using var cursor = data.GetRowCursor(new[] { column });
        if (column.Type == NumberDataViewType.Single) Read<float>(cursor, column, v => result.Add(v));
        else if (column.Type == NumberDataViewType.Double) Read<double>(cursor, column, v => result.Add(v));
        else throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for {role} column '{name}': expected Single or Double, got {column.Type}.");
        return result;
    }

    public static List<bool> Booleans(IDataView data, string name, string role)
    {
        var column = Find(data, name, role);
        if (column.Type != BooleanDataViewType.Instance)
            throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for {role} column '{name}': expected Boolean, got {column.Type}.");
        var result = new List<bool>();
        using var cursor = data.GetRowCursor(new[] { column });
        Read<bool>(cursor, column, result.Add);
        return result;
    }

    public static List<int> Integers(IDataView data, string name, string role)
    {
        var column = Find(data, name, role);
        var result = new List<int>();
        using var cursor = data.GetRowCursor(new[] { column });
        if (column.Type == NumberDataViewType.Int32) Read<int>(cursor, column, result.Add);
        else if (column.Type == NumberDataViewType.Int64) Read<long>(cursor, column, v => result.Add((int)v));
        else if (column.Type is KeyDataViewType { RawType: var raw } && raw == typeof(uint)) Read<uint>(cursor, column, v => result.Add((int)v));
        else throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for {role} column '{name}': expected Int32, Int64 or a key, got {column.Type}.");
        return result;
    }

    /// <summary>Text columns as they are; keys and numbers as their text.</summary>
    public static List<string> Labels(IDataView data, string name, string role)
    {
        var column = Find(data, name, role);
        var result = new List<string>();
        using var cursor = data.GetRowCursor(new[] { column });
        switch (column.Type)
        {
            case TextDataViewType: Read<ReadOnlyMemory<char>>(cursor, column, v => result.Add(v.ToString())); break;
            case KeyDataViewType { RawType: var raw } when raw == typeof(uint): Read<uint>(cursor, column, v => result.Add(v.ToString())); break;
            default:
                if (column.Type == NumberDataViewType.Int32) Read<int>(cursor, column, v => result.Add(v.ToString()));
                else if (column.Type == NumberDataViewType.Int64) Read<long>(cursor, column, v => result.Add(v.ToString()));
                else throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for {role} column '{name}': expected String, a key or an integer, got {column.Type}.");
                break;
        }
        return result;
    }

    public static List<IReadOnlyList<string>> TextVectors(IDataView data, string name, string role)
    {
        var column = Find(data, name, role);
        if (column.Type is not VectorDataViewType { ItemType: TextDataViewType })
            throw new ArgumentOutOfRangeException(nameof(name), $"Schema mismatch for {role} column '{name}': expected Vector<String>, got {column.Type}.");
        var result = new List<IReadOnlyList<string>>();
        using var cursor = data.GetRowCursor(new[] { column });
        Read<VBuffer<ReadOnlyMemory<char>>>(cursor, column, v => result.Add(v.DenseValues().Select(t => t.ToString()).ToList()));
        return result;
    }

    private static void Read<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Action<T> add)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        while (cursor.MoveNext())
        {
            getter(ref value);
            add(value);
        }
    }
}
