namespace Microsoft.ML.FaceLoss.DataViews;

/// <summary>
/// The estimator of a transformer that learns nothing from the data (image loading, cropping):
/// <see cref="Fit"/> checks the input schema and returns the transformer.
/// </summary>
/// <typeparam name="TTransformer">The transformer.</typeparam>
public abstract class StatelessEstimator<TTransformer> : IEstimator<TTransformer> where TTransformer : RowMappingTransformer
{
    private readonly TTransformer _transformer;

    private protected StatelessEstimator(TTransformer transformer) => _transformer = transformer;

    /// <summary>Checks that <paramref name="input"/> has the columns the transformer reads; returns the transformer.</summary>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _transformer.GetOutputSchema(input.Schema);
        return _transformer;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _transformer.GetOutputSchemaShape(inputSchema);
}
