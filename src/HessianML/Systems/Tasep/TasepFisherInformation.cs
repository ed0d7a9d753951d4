using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Systems.Tasep;

/// <summary>The Fisher information of TASEP per site in t = (alpha, beta), with its standard errors (0 when exact).</summary>
public readonly record struct TasepFisher(double G11, double G12, double G22, double Se11 = 0, double Se12 = 0, double Se22 = 0);

/// <summary>
/// The Fisher information of the open-boundary TASEP's stationary law p(tau | alpha, beta) = f(tau) / Z_L, per site:
/// I = (1/L) E[s s^T], s = grad_t log p = grad_t log f(tau) - grad_t log Z_L.
/// WHY it is here: TASEP is not an exponential family, so I is not the Hessian of (1/L) log Z_L (the reference METHOD
/// §7 scores psi against). In w = (-log alpha, -log beta) a weight f(tau) is a positive polynomial in exp(w), so
/// Hess_w log Z_L = Cov(grad_w log f) + E[Hess_w log f] = I_w + (a PSD term), and in t that gains diag(d log Z / dw_i
/// / t_i^2) &gt;= 0 too: Hess_t log Z_L - I_t is positive semi-definite. A posterior sees only I (its curvature is the
/// Fisher information), so this is the reference for what any posterior-based psi can learn (README, "Not met").
/// grad_t log f comes from differences of <see cref="TasepMatrixProduct.LogWeight"/> (step 1e-5 t, double;
/// tested against the analytic L = 1 answer), grad_t log Z_L from <see cref="TasepExact.LogPartition"/> exactly.
/// </summary>
public static class TasepFisherInformation
{
    private const double RelativeStep = 1e-5;

    /// <summary>By enumerating all 2^L configurations (L &lt;= 20): exact up to the difference step.</summary>
    public static TasepFisher Exact(int size, double alpha, double beta)
    {
        if (size < 1 || size > 20) throw new ArgumentOutOfRangeException(nameof(size), $"exact enumeration needs 1 <= L <= 20, got {size}");
        var score = new Score(size, alpha, beta);
        double logZ = TasepExact.LogZ(size, alpha, beta);
        var tau = new sbyte[size];
        double g11 = 0, g12 = 0, g22 = 0;
        for (int c = 0; c < 1 << size; c++)
        {
            for (int i = 0; i < size; i++) tau[i] = (sbyte)((c >> i) & 1);
            var (s1, s2) = score.At(tau);
            double p = Math.Exp(score.Sampler.LogWeight(tau) - logZ);
            g11 += p * s1 * s1; g12 += p * s1 * s2; g22 += p * s2 * s2;
        }
        return new TasepFisher(g11 / size, g12 / size, g22 / size);
    }

    /// <summary>
    /// By <paramref name="samples"/> exact draws (the matrix-product sequential sampler, <see cref="TasepMatrixProduct.Sample"/>),
    /// with the standard error of each entry.
    /// </summary>
    public static TasepFisher Sampled(int size, double alpha, double beta, int samples, ulong seed)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), $"need at least 2 samples, got {samples}");
        var score = new Score(size, alpha, beta);
        var rng = new SampleRandom(seed);
        var tau = new sbyte[size];
        var sum = new double[3];
        var sq = new double[3];
        for (int n = 0; n < samples; n++)
        {
            score.Sampler.Sample(ref rng, tau);
            var (s1, s2) = score.At(tau);
            double a = s1 * s1, b = s1 * s2, c = s2 * s2;
            sum[0] += a; sum[1] += b; sum[2] += c;
            sq[0] += a * a; sq[1] += b * b; sq[2] += c * c;
        }
        double Mean(int i) => sum[i] / samples / size;
        double Se(int i) => Math.Sqrt(Math.Max(0, sq[i] / samples - Math.Pow(sum[i] / samples, 2)) / (samples - 1)) / size;
        return new TasepFisher(Mean(0), Mean(1), Mean(2), Se(0), Se(1), Se(2));
    }

    /// <summary>
    /// <see cref="Sampled"/> at the K x K cell centres of <paramref name="box"/> (t2 fastest, as
    /// <see cref="TasepExact.MetricFieldOnGrid"/>), in parallel, each cell with its own seeded stream; psi and its
    /// gradient are left at 0 (the Fisher information is not a Hessian in general).
    /// </summary>
    public static MetricField SampledOnGrid(int size, ParameterBox box, int grid, int samplesPerCell, ulong seed)
    {
        var field = MetricField.AtCellCentres(box, grid);
        var (t1, t2) = (field.T1, field.T2);
        Parallel.For(0, field.Count, i =>
        {
            ulong stream = seed * 0x9E3779B97F4A7C15UL + (ulong)i;
            var f = Sampled(size, t1[i], t2[i], samplesPerCell, Systems.SampleRandom.SplitMix64(ref stream));
            (field.G11[i], field.G12[i], field.G22[i]) = (f.G11, f.G12, f.G22);
        });
        return field;
    }

    /// <summary>
    /// grad_t log p(tau) = grad_t log f(tau) - grad_t log Z_L at one (alpha, beta), log f by differences: central (f(t+h) - f(t-h)) / 2h, and at
    /// a rate within h of 1 (the sampler's range ends there) the second-order one-sided (3f(t) - 4f(t-h) + f(t-2h)) / 2h.
    /// </summary>
    private sealed class Score
    {
        private readonly (TasepMatrixProduct At, double Weight)[] _alpha, _beta;
        private readonly double _dLogZa, _dLogZb;
        public TasepMatrixProduct Sampler { get; }

        public Score(int size, double alpha, double beta)
        {
            TasepExact.CheckRates(alpha, beta);
            Sampler = new TasepMatrixProduct(size, alpha, beta);
            _alpha = Stencil(alpha, a => new TasepMatrixProduct(size, a, beta));
            _beta = Stencil(beta, b => new TasepMatrixProduct(size, alpha, b));
            var z = TasepExact.LogPartition(size, alpha, beta);
            (_dLogZa, _dLogZb) = (z.DAlpha, z.DBeta);
        }

        private static (TasepMatrixProduct, double)[] Stencil(double t, Func<double, TasepMatrixProduct> at)
        {
            double h = RelativeStep * t;
            return t + h <= 1
                ? [(at(t + h), 0.5 / h), (at(t - h), -0.5 / h)]
                : [(at(t), 1.5 / h), (at(t - h), -2 / h), (at(t - 2 * h), 0.5 / h)];
        }

        private static double Derivative((TasepMatrixProduct At, double Weight)[] stencil, ReadOnlySpan<sbyte> tau)
        {
            double d = 0;
            foreach (var (at, w) in stencil) d += w * at.LogWeight(tau);
            return d;
        }

        public (double S1, double S2) At(ReadOnlySpan<sbyte> tau) =>
            (Derivative(_alpha, tau) - _dLogZa, Derivative(_beta, tau) - _dLogZb);
    }
}
