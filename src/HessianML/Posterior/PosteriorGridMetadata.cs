using System.Globalization;
using HessianML.Data;

namespace HessianML.Posterior;

/// <summary>
/// The schema metadata keys that travel with a <c>posterior</c> column (the PosteriorGrid -> LogPartition contract):
/// <c>posterior.grid</c> = K (the grid is K x K), <c>posterior.box</c> = "lo1,hi1,lo2,hi2" (invariant culture, "R"
/// doubles so the box round-trips exactly), <c>posterior.bundle</c> = K_bundle (samples each posterior is conditioned
/// on; a psi learned from it is about K_bundle * psi).
/// </summary>
public static class PosteriorGridMetadata
{
    public const string GridKey = "posterior.grid";
    public const string BoxKey = "posterior.box";
    public const string BundleKey = "posterior.bundle";

    /// <summary>The three entries, ready to merge into a schema's metadata.</summary>
    public static IReadOnlyDictionary<string, string> Entries(int grid, ParameterBox box, int bundle)
    {
        var inv = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            [GridKey] = grid.ToString(inv),
            [BoxKey] = string.Join(",", new[] { box.Lo1, box.Hi1, box.Lo2, box.Hi2 }.Select(v => v.ToString("R", inv))),
            [BundleKey] = bundle.ToString(inv),
        };
    }

    /// <summary>A copy of <paramref name="metadata"/> with the three entries set (replacing older ones).</summary>
    public static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> metadata, int grid, ParameterBox box, int bundle)
    {
        var d = new Dictionary<string, string>(metadata);
        foreach (var kv in Entries(grid, box, bundle)) d[kv.Key] = kv.Value;
        return d;
    }

    /// <summary>Reads the three entries; throws a <see cref="SchemaException"/> naming the missing or malformed key.</summary>
    public static (int Grid, ParameterBox Box, int Bundle) Read(TableSchema schema, string component = "posterior")
    {
        var inv = CultureInfo.InvariantCulture;
        string Get(string key) => schema.Metadata.TryGetValue(key, out var v)
            ? v
            : throw new SchemaException($"{component}: schema metadata '{key}' is missing (written by PosteriorGrid)", "posterior", component);
        SchemaException Bad(string key, string value) =>
            new($"{component}: schema metadata '{key}' = '{value}' is malformed", "posterior", component);
        string g = Get(GridKey), b = Get(BoxKey), n = Get(BundleKey);
        if (!int.TryParse(g, NumberStyles.Integer, inv, out int grid) || grid < 1) throw Bad(GridKey, g);
        if (!int.TryParse(n, NumberStyles.Integer, inv, out int bundle) || bundle < 1) throw Bad(BundleKey, n);
        var parts = b.Split(',');
        var v = new double[4];
        if (parts.Length != 4 || !parts.Select((p, i) => double.TryParse(p, NumberStyles.Float, inv, out v[i])).All(ok => ok))
            throw Bad(BoxKey, b);
        ParameterBox box;
        try { box = new ParameterBox(v[0], v[1], v[2], v[3]); }
        catch (ArgumentException) { throw Bad(BoxKey, b); }
        return (grid, box, bundle);
    }
}
