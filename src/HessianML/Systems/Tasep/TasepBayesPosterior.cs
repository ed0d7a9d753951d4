using HessianML.Posterior;

namespace HessianML.Systems.Tasep;

/// <summary>
/// The exact Bayes posterior of TASEP configurations over the K x K cell centres of a box, with a uniform prior over the
/// cells (the samples' t are uniform on the box): for a bundle of B configurations taken as drawn at one t,
/// <code>
///     p(t_k | x_1..x_B) ∝ prod_b f(x_b; t_k) / Z_L(t_k)^B,
/// </code>
/// f the matrix-product weight (<see cref="TasepMatrixProduct.LogWeight"/>). WHY: it is what a perfect posterior network
/// would output, so psi fitted to it separates the psi fit's own error from the network's (METHOD §8's rows "on the exact
/// Bayes posterior"). Cost: O(L^2) per configuration and cell, in parallel over bundles.
/// </summary>
public static class TasepBayesPosterior
{
    /// <summary>
    /// Posteriors (rows = count / <paramref name="bundle"/>, each K x K in <see cref="ParameterBox.CellCentres"/> order)
    /// of the configurations <paramref name="states"/> (count x <paramref name="size"/> sites, 0/1), bundles of
    /// consecutive rows.
    /// </summary>
    public static float[] OnGrid(sbyte[] states, int size, int bundle, ParameterBox box, int k)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(box);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"TASEP size {size} must be at least 1");
        if (bundle < 1) throw new ArgumentOutOfRangeException(nameof(bundle), $"bundle {bundle} must be at least 1");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), $"grid {k} must be at least 1");
        if (states.Length % (size * bundle) != 0)
            throw new ArgumentException($"{states.Length} sites are not whole bundles of {bundle} configurations of {size} sites");
        var centres = box.CellCentres(k, k);
        int cells = k * k, rows = states.Length / (size * bundle);
        var tables = new TasepMatrixProduct[cells];
        Parallel.For(0, cells, c => tables[c] = new TasepMatrixProduct(size, centres[2 * c], centres[2 * c + 1]));
        var posteriors = new float[rows * cells];
        Parallel.For(0, rows, () => new double[cells], (r, _, logp) =>
        {
            for (int c = 0; c < cells; c++)
            {
                double sum = -bundle * tables[c].LogZ;
                for (int b = 0; b < bundle; b++) sum += tables[c].LogWeight(states.AsSpan((r * bundle + b) * size, size));
                logp[c] = sum;
            }
            double max = logp.Max(), total = 0;
            for (int c = 0; c < cells; c++) total += logp[c] = Math.Exp(logp[c] - max);
            for (int c = 0; c < cells; c++) posteriors[r * cells + c] = (float)(logp[c] / total);
            return logp;
        }, _ => { });
        return posteriors;
    }
}
