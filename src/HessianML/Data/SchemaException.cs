namespace HessianML.Data;

/// <summary>
/// A column is missing, has the wrong type, or has inconsistent length. Raised by data views and by pipeline
/// components while checking schemas, before any work is done, so the message names the column and (where known)
/// the component that needed it.
/// </summary>
public sealed class SchemaException : ArgumentException
{
    /// <summary>The offending column.</summary>
    public string? ColumnName { get; }

    /// <summary>The component (estimator / transformer) that raised it, if any.</summary>
    public string? Component { get; }

    public SchemaException(string message, string? columnName = null, string? component = null)
        : base(message) => (ColumnName, Component) = (columnName, component);
}
