using Microsoft.ML.Data;

namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// Computes the columns a transformer adds to each row of its input. The getters are made once per
/// cursor (or row) and read the current row.
/// </summary>
internal interface IAppendedColumnsSource
{
    /// <summary>The added columns, in order.</summary>
    IReadOnlyList<DataViewSchema.DetachedColumn> Columns { get; }

    /// <summary>The input columns the added columns are computed from.</summary>
    IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema);

    /// <summary>
    /// Whether the cursor getters read their inputs through cursors of their own (to work in
    /// batches); when false, the main cursor activates <see cref="Dependencies"/> for them.
    /// </summary>
    bool ReadsThroughOwnCursor { get; }

    /// <summary>
    /// Makes the getters (index of the added column -> <c>ValueGetter&lt;T&gt;</c>) for a cursor over
    /// <paramref name="input"/>. A batched source may open its own cursors over the input with
    /// <paramref name="seed"/> (the seed of the main cursor's shuffle, or null) and register them in
    /// <paramref name="resources"/> for disposal.
    /// </summary>
    Func<int, Delegate> MakeCursorGetters(IDataView input, AppendedColumnsCursor cursor, int? seed, ICollection<IDisposable> resources);

    /// <summary>Makes the getters for a single row (prediction engines).</summary>
    Func<int, Delegate> MakeRowGetters(DataViewRow input);
}
