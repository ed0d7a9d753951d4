using HessianML.Posterior;
using HessianML.Tensors;

namespace HessianML.Geometry;

/// <summary>
/// Noiseless exact posteriors for testing and measuring psi fits without a posterior network: for a bundle whose mean
/// statistic equals E[T | t_i] = grad psi(t_i), the Bayes posterior on the grid is
/// p_i(t'_k) ∝ exp(S (&lt;grad psi(t_i), t'_k&gt; - psi(t'_k))), S = bundle size x sites (METHOD §2, noiseless limit).
/// </summary>
public static class SyntheticPosteriors
{
    /// <summary>
    /// <paramref name="count"/> rows with t uniform in <paramref name="box"/> (from <paramref name="seed"/>);
    /// <paramref name="gradient"/> gives grad psi at a point, <paramref name="psiOnGrid"/> psi at the k x k cell centres.
    /// Returns t (n x 2, float, row-major) and posteriors (n x k*k).
    /// </summary>
    public static (float[] T, float[] Posterior) Generate(ParameterBox box, int k, double[] psiOnGrid,
        Func<double, double, (double D1, double D2)> gradient, double scale, int count, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(gradient);
        if (psiOnGrid.Length != k * k) throw new ArgumentException($"psiOnGrid needs {k * k} values");
        var grid = box.CellCentres(k, k);
        var rng = new SplitMix64(seed);
        var t = new float[2 * count];
        var p = new float[count * k * k];
        var logit = new double[k * k];
        for (int i = 0; i < count; i++)
        {
            double t1 = rng.NextUniform(box.Lo1, box.Hi1), t2 = rng.NextUniform(box.Lo2, box.Hi2);
            (t[2 * i], t[2 * i + 1]) = ((float)t1, (float)t2);
            var (g1, g2) = gradient(t1, t2);
            double max = double.NegativeInfinity;
            for (int c = 0; c < k * k; c++)
            {
                logit[c] = scale * (g1 * grid[2 * c] + g2 * grid[2 * c + 1] - psiOnGrid[c]);
                max = Math.Max(max, logit[c]);
            }
            double z = 0;
            for (int c = 0; c < k * k; c++) z += logit[c] = Math.Exp(logit[c] - max);
            for (int c = 0; c < k * k; c++) p[i * k * k + c] = (float)(logit[c] / z);
        }
        return (t, p);
    }

    /// <summary>The same rows as a data view in the issue-4 contract: <c>t</c>, <c>posterior</c> and the grid metadata.</summary>
    public static Data.ColumnTable ToDataView(ParameterBox box, int k, float[] t, float[] posterior, int bundle = 4)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return new Data.ColumnTable.Builder()
            .AddVector("t", 2, t)
            .AddVector("posterior", k * k, posterior)
            .AddMetadata(LogPartitionTrainer.GridKey, k.ToString(inv))
            .AddMetadata(LogPartitionTrainer.BoxKey, string.Join(",", new[] { box.Lo1, box.Hi1, box.Lo2, box.Hi2 }.Select(v => v.ToString("R", inv))))
            .AddMetadata("posterior.bundle", bundle.ToString(inv))
            .Build();
    }
}
