using Microsoft.ML.Data;
using Microsoft.ML.FaceLoss.Persistence;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// The base of transformers that compute one output column from one input column, row by row (the
/// image loading and cropping transforms): the column names, the input check, the getters and the
/// schema shape, so that a transformer states only its types and its per-row mapping.
/// </summary>
/// <typeparam name="TIn">The values of the input column.</typeparam>
/// <typeparam name="TOut">The values of the output column.</typeparam>
public abstract class SingleColumnTransformer<TIn, TOut> : RowMappingTransformer
{
    private protected SingleColumnTransformer(string outputColumnName, string inputColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
    }

    /// <summary>The added column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The column the added one is computed from.</summary>
    public string InputColumnName { get; }

    /// <summary>What the input column holds, for messages ("image-path column").</summary>
    private protected abstract string InputKind { get; }

    /// <summary>The type the input column must have, for messages ("String").</summary>
    private protected abstract string ExpectedInputType { get; }

    /// <summary>Whether the input column's item type is one this transformer reads.</summary>
    private protected abstract bool Accepts(DataViewType itemType);

    /// <summary>The output column's type for an input column of <paramref name="inputType"/>.</summary>
    private protected abstract DataViewType OutputType(DataViewType inputType);

    /// <summary>The output column's item type, for schema shapes.</summary>
    private protected abstract DataViewType OutputItemType { get; }

    /// <summary>
    /// Computes the output of row <paramref name="row"/> into <paramref name="output"/> (reused from row to
    /// row: dispose what it held when needed).
    /// </summary>
    private protected abstract void Map(in TIn input, ref TOut output, long row);

    /// <summary>Finds and checks the input column; returns its index.</summary>
    internal int CheckInputColumn(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no {InputKind} '{InputColumnName}'.");
        if (!Accepts(column.Type))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for {InputKind} '{InputColumnName}': expected {ExpectedInputType}, got {column.Type}.");
        return column.Index;
    }

    internal sealed override SchemaShape GetOutputSchemaShape(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!MLNetInternals.TryFindColumn(inputSchema, InputColumnName, out var column))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no {InputKind} '{InputColumnName}'.");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || !Accepts(column.ItemType))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for {InputKind} '{InputColumnName}': expected {ExpectedInputType}, got {MLNetInternals.TypeString(column)}.");
        return MLNetInternals.With(inputSchema, MLNetInternals.ScalarColumn(OutputColumnName, OutputItemType));
    }

    private protected sealed override IAppendedColumnsSource CreateSource(DataViewSchema inputSchema) => new Source(this, inputSchema);

    private sealed class Source : IAppendedColumnsSource
    {
        private readonly SingleColumnTransformer<TIn, TOut> _parent;
        private readonly int _inputIndex;

        public Source(SingleColumnTransformer<TIn, TOut> parent, DataViewSchema inputSchema)
        {
            _parent = parent;
            _inputIndex = parent.CheckInputColumn(inputSchema);
            Columns = new[] { new DataViewSchema.DetachedColumn(parent.OutputColumnName, parent.OutputType(inputSchema[_inputIndex].Type)) };
        }

        public IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

        public bool ReadsThroughOwnCursor => false;

        public IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => new[] { inputSchema[_inputIndex] };

        public Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources)
            => MakeRowGetters(cursor.Input);

        public Func<int, Delegate> MakeRowGetters(DataViewRow input)
        {
            var getInput = input.GetGetter<TIn>(input.Schema[_inputIndex]);
            TIn value = default!;
            ValueGetter<TOut> getter = (ref TOut output) =>
            {
                getInput(ref value);
                _parent.Map(value, ref output, input.Position);
            };
            return _ => getter;
        }
    }
}
