using System.Numerics;
using HessianML.Geometry;
using HessianML.Posterior;

namespace HessianML.Systems.Ising;

/// <summary>
/// psi = (1/N) log Z of the L x L Ising torus at natural parameters t = (beta, h), with its gradient
/// (mean bond sum and mean magnetisation, per spin) and Hessian (their covariances per spin: the Fisher metric).
/// </summary>
public readonly record struct IsingExactPoint(double Beta, double Field, double LogZ, double Psi,
    double Dpsi1, double Dpsi2, double G11, double G12, double G22);

/// <summary>
/// Exact solution of the finite 2D Ising torus by the row-to-row transfer matrix (METHOD.md §6), and Onsager's
/// infinite-lattice free energy at h = 0.
/// <para>
/// HOW: V = A^{1/2} B A^{1/2} with A the diagonal intra-row weight exp(beta * row bonds + h * row spins) and B the
/// tensor product of one 2 x 2 vertical-bond matrix per column, so applying V to a block of vectors costs
/// O(L 2^L) per vector (one butterfly per bit) instead of O(4^L). Z = Tr V^L = sum_j &lt;V^a e_j, V^(L-a) e_j&gt;
/// with a = floor(L/2), which only needs V applied a (or a + 1) times to blocks of unit vectors.
/// </para>
/// <para>
/// EXACT derivatives, no finite differences: every matrix entry is carried as a second-order jet in (beta, h)
/// (value, d/dbeta, d/dh, d2/dbeta2, d2/dbeta dh, d2/dh2). Each factor exp(beta e + h m) multiplies a jet by the
/// chain rule, so the final jets of Z are its exact derivatives, and Cov = d2 log Z follows. Overflow: after
/// every application of V the block is divided by its largest value and the log of the scale is kept aside; blocks
/// are combined in log space.
/// </para>
/// </summary>
public static class IsingExact
{
    /// <summary>Largest L for the transfer matrix: 2^12 row states (L = 12 takes seconds per point).</summary>
    public const int MaxSize = 12;

    /// <summary>Critical coupling beta_c = ln(1 + sqrt 2) / 2 of the infinite lattice.</summary>
    public static readonly double CriticalBeta = Math.Log(1 + Math.Sqrt(2)) / 2;

    private const int Components = 6; // 0: value, 1: d/db, 2: d/dh, 3: d2/db2, 4: d2/dbdh, 5: d2/dh2

    /// <summary>Exact psi, gradient and Hessian for the L x L torus at (beta, h).</summary>
    public static IsingExactPoint Evaluate(int size, double beta, double field) => Evaluate(size, beta, field, symmetric: true, MaxBlock);

    /// <summary>
    /// Evaluate with the column set and block width chosen: all 2^L unit vectors (<paramref name="symmetric"/> false,
    /// the plain trace) or one per row orbit, weighted by its size; blocks of at most <paramref name="blockWidth"/> columns.
    /// Tests compare the two and force several blocks.
    /// </summary>
    internal static IsingExactPoint Evaluate(int size, double beta, double field, bool symmetric, int blockWidth)
    {
        Validate(size, beta, field);
        var blocks = ColumnBlocks(size, symmetric, blockWidth);
        var parts = new BlockSums[blocks.Length];
        for (int b = 0; b < parts.Length; b++)
            parts[b] = EvaluateBlock(size, beta, field, blocks[b]);
        return Combine(size, beta, field, parts);
    }

    /// <summary>Columns per block: 256 x 2^L jets of 6 doubles (3 MB at L = 8) stay in L2/L3.</summary>
    private const int MaxBlock = 256;

    /// <summary>
    /// Unit vectors e_j (row states j) whose columns of V^a are computed, with the number of columns each stands for.
    /// V commutes with the cyclic shift and the reversal of a row's spins (translation and reflection of the torus),
    /// so e_j and e_(g j) give the same &lt;V^a e, V^(L-a) e&gt; jets for every such g: one representative per orbit
    /// (the smallest state of it), weighted by the orbit's size, gives the trace with about 2L times fewer columns
    /// (L = 8: 30 orbits of 256 states). Only the order of the sum changes.
    /// </summary>
    private readonly record struct ColumnBlock(int[] States, double[] Weights);

    private static readonly ColumnBlock[]?[] SymmetricBlocks = new ColumnBlock[MaxSize + 1][];

    private static ColumnBlock[] ColumnBlocks(int size, bool symmetric, int blockWidth)
    {
        if (symmetric && blockWidth == MaxBlock && SymmetricBlocks[size] is { } cached) return cached;
        int n = 1 << size;
        var states = new List<int>();
        var weights = new List<double>();
        for (int s = 0; s < n; s++)
        {
            if (!symmetric) { states.Add(s); weights.Add(1); continue; }
            var orbit = new HashSet<int>();
            for (int shift = 0; shift < size; shift++)
            {
                int rotated = ((s >> shift) | (s << (size - shift))) & (n - 1);
                orbit.Add(rotated);
                orbit.Add(Reverse(rotated, size));
            }
            if (orbit.Min() != s) continue;
            states.Add(s);
            weights.Add(orbit.Count);
        }
        var blocks = new ColumnBlock[(states.Count + blockWidth - 1) / blockWidth];
        for (int b = 0; b < blocks.Length; b++)
        {
            int lo = b * blockWidth, count = Math.Min(blockWidth, states.Count - lo);
            blocks[b] = new ColumnBlock(states.GetRange(lo, count).ToArray(), weights.GetRange(lo, count).ToArray());
        }
        if (symmetric && blockWidth == MaxBlock) SymmetricBlocks[size] = blocks;
        return blocks;
    }

    private static int Reverse(int s, int size)
    {
        int r = 0;
        for (int i = 0; i < size; i++) r |= ((s >> i) & 1) << (size - 1 - i);
        return r;
    }

    /// <summary>
    /// The exact metric field at the k1 x k2 cell centres of <paramref name="box"/> (row-major, t2 fastest), in
    /// parallel over points and column blocks. <paramref name="progress"/> receives the count of finished points.
    /// </summary>
    public static MetricField Field(int size, ParameterBox box, int k1, int k2, IProgress<int>? progress = null,
        int maxThreads = -1)
    {
        ArgumentNullException.ThrowIfNull(box);
        Validate(size, box.Lo1, box.Lo2);
        Validate(size, box.Hi1, box.Hi2);
        var centres = box.CellCentres(k1, k2);
        int count = k1 * k2;
        var columns = ColumnBlocks(size, symmetric: true, MaxBlock);
        int blocks = columns.Length;
        var parts = new BlockSums[count * blocks];
        var left = new int[count];
        Array.Fill(left, blocks);
        int done = 0;
        Parallel.For(0, count * blocks, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, job =>
        {
            int p = job / blocks, b = job % blocks;
            parts[job] = EvaluateBlock(size, centres[2 * p], centres[2 * p + 1], columns[b]);
            if (Interlocked.Decrement(ref left[p]) == 0)
                progress?.Report(Interlocked.Increment(ref done));
        });
        var t1 = new double[count];
        var t2 = new double[count];
        var field = MetricField.AtPoints(t1, t2);
        for (int p = 0; p < count; p++)
        {
            var r = Combine(size, centres[2 * p], centres[2 * p + 1], parts.AsSpan(p * blocks, blocks));
            t1[p] = r.Beta;
            t2[p] = r.Field;
            field.Psi[p] = r.Psi;
            field.Dpsi1[p] = r.Dpsi1;
            field.Dpsi2[p] = r.Dpsi2;
            field.G11[p] = r.G11;
            field.G12[p] = r.G12;
            field.G22[p] = r.G22;
        }
        return field;
    }

    /// <summary>
    /// Onsager's (1/N) log Z of the infinite square lattice at h = 0:
    /// log(2 cosh 2b) + (1/pi) ∫_0^{pi/2} log((1 + sqrt(1 - k^2 sin^2 phi)) / 2) dphi, k = 2 sinh 2b / cosh^2 2b.
    /// The integrand is smooth in phi for every b (k &lt;= 1), so composite Simpson converges fast.
    /// </summary>
    public static double OnsagerPsi(double beta)
    {
        double c = Math.Cosh(2 * beta);
        double k = 2 * Math.Sinh(2 * beta) / (c * c);
        double k2 = Math.Min(k * k, 1.0);
        const int intervals = 4096;
        double hstep = Math.PI / 2 / intervals;
        double sum = 0;
        for (int i = 0; i <= intervals; i++)
        {
            double s = Math.Sin(i * hstep);
            double f = Math.Log((1 + Math.Sqrt(Math.Max(0, 1 - k2 * s * s))) / 2);
            sum += f * (i == 0 || i == intervals ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return Math.Log(2 * c) + sum * hstep / 3 / Math.PI;
    }

    /// <summary>Onsager–Yang spontaneous magnetisation per spin (0 at or above beta_c).</summary>
    public static double SpontaneousMagnetisation(double beta) =>
        beta <= CriticalBeta ? 0 : Math.Pow(1 - Math.Pow(Math.Sinh(2 * beta), -4), 0.125);

    private static void Validate(int size, double beta, double field)
    {
        if (size < 2 || size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size),
                $"size {size} is outside the exact transfer-matrix range [2, {MaxSize}] (2^L row states)");
        if (!double.IsFinite(beta) || beta < 0)
            throw new ArgumentOutOfRangeException(nameof(beta), $"beta {beta} must be finite and >= 0");
        if (!double.IsFinite(field))
            throw new ArgumentOutOfRangeException(nameof(field), $"field {field} must be finite");
    }

    /// <summary>One column block's contribution: log of its (positive) Z share and its normalised jet ratios.</summary>
    private readonly record struct BlockSums(double LogWeight, double R1, double R2, double R11, double R12, double R22);

    private static IsingExactPoint Combine(int size, double beta, double field, ReadOnlySpan<BlockSums> parts)
    {
        double max = double.NegativeInfinity;
        foreach (var p in parts) max = Math.Max(max, p.LogWeight);
        double w = 0, r1 = 0, r2 = 0, r11 = 0, r12 = 0, r22 = 0;
        foreach (var p in parts)
        {
            double wi = Math.Exp(p.LogWeight - max);
            w += wi;
            r1 += wi * p.R1; r2 += wi * p.R2;
            r11 += wi * p.R11; r12 += wi * p.R12; r22 += wi * p.R22;
        }
        r1 /= w; r2 /= w; r11 /= w; r12 /= w; r22 /= w;
        double logZ = max + Math.Log(w);
        double nSpins = size * size;
        // d log Z = Z'/Z, d2 log Z = Z''/Z - (Z'/Z)(Z'/Z): mean and covariance of (bond sum, magnetisation).
        return new IsingExactPoint(beta, field, logZ, logZ / nSpins, r1 / nSpins, r2 / nSpins,
            (r11 - r1 * r1) / nSpins, (r12 - r1 * r2) / nSpins, (r22 - r2 * r2) / nSpins);
    }

    private static BlockSums EvaluateBlock(int size, double beta, double field, ColumnBlock columns)
    {
        int n = 1 << size;
        int a = size / 2;
        int width = columns.States.Length;
        using var p = Jets.Rent(n, width);
        for (int j = 0; j < width; j++)
            p.C[0][columns.States[j] * width + j] = 1;
        var half = HalfRowFactors(size, beta, field);
        double scaleP = 0;
        for (int step = 0; step < a; step++)
            scaleP += ApplyV(p, size, beta, half);
        using var odd = size % 2 == 1 ? p.Copy() : null;
        Jets q = odd ?? p;
        double scaleQ = scaleP;
        if (odd is not null) scaleQ += ApplyV(odd, size, beta, half);
        // Z share = sum_j weight_j sum_s P[s, j] Q[s, j], and its first and second derivatives by the product rule.
        var w = columns.Weights;
        var tmp = new double[width];
        double Dot(double[] x, double[] y)
        {
            double sum = 0;
            for (int s = 0; s < n; s++)
            {
                var row = tmp.AsSpan();
                System.Numerics.Tensors.TensorPrimitives.Multiply<double>(x.AsSpan(s * width, width), y.AsSpan(s * width, width), row);
                sum += System.Numerics.Tensors.TensorPrimitives.Dot<double>(row, w);
            }
            return sum;
        }
        double z = Dot(p.C[0], q.C[0]);
        double z1 = Dot(p.C[1], q.C[0]) + Dot(p.C[0], q.C[1]);
        double z2 = Dot(p.C[2], q.C[0]) + Dot(p.C[0], q.C[2]);
        double z11 = Dot(p.C[3], q.C[0]) + 2 * Dot(p.C[1], q.C[1]) + Dot(p.C[0], q.C[3]);
        double z12 = Dot(p.C[4], q.C[0]) + Dot(p.C[1], q.C[2]) + Dot(p.C[2], q.C[1]) + Dot(p.C[0], q.C[4]);
        double z22 = Dot(p.C[5], q.C[0]) + 2 * Dot(p.C[2], q.C[2]) + Dot(p.C[0], q.C[5]);
        return new BlockSums(Math.Log(z) + scaleP + scaleQ, z1 / z, z2 / z, z11 / z, z12 / z, z22 / z);
    }

    /// <summary>Per row state: (weight, e, m) of A^{1/2}: e = half the row's bond sum, m = half its spin sum.</summary>
    private static (double W, double E, double M)[] HalfRowFactors(int size, double beta, double field)
    {
        int n = 1 << size;
        var f = new (double, double, double)[n];
        for (int s = 0; s < n; s++)
        {
            int bonds = 0, spins = 0;
            for (int i = 0; i < size; i++)
            {
                int si = ((s >> i) & 1) == 1 ? 1 : -1;
                int sj = ((s >> ((i + 1) % size)) & 1) == 1 ? 1 : -1;
                bonds += si * sj;
                spins += si;
            }
            double e = bonds / 2.0, m = spins / 2.0;
            f[s] = (Math.Exp(beta * e + field * m), e, m);
        }
        return f;
    }

    /// <summary>P &lt;- V P = A^{1/2} B A^{1/2} P, rescaled; returns the log of the scale divided out.</summary>
    private static double ApplyV(Jets p, int size, double beta, (double W, double E, double M)[] half)
    {
        ScaleRows(p, half);
        double ep = Math.Exp(beta), em = Math.Exp(-beta);
        for (int bit = 0; bit < size; bit++)
            Butterfly(p, 1 << bit, ep, em);
        ScaleRows(p, half);
        var used = p.Rows * p.Width;
        double max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<double>(p.C[0].AsSpan(0, used));
        double inv = 1 / max;
        for (int c = 0; c < Components; c++)
        {
            var x = p.C[c].AsSpan(0, used);
            System.Numerics.Tensors.TensorPrimitives.Multiply(x, inv, x);
        }
        return Math.Log(max);
    }

    /// <summary>Row s of every component multiplied by the jet of w exp(beta e + h m) (chain rule, in place).</summary>
    private static void ScaleRows(Jets p, (double W, double E, double M)[] half)
    {
        int width = p.Width;
        for (int s = 0; s < half.Length; s++)
        {
            var (w, e, m) = half[s];
            var x0 = p.C[0].AsSpan(s * width, width);
            var xb = p.C[1].AsSpan(s * width, width);
            var xh = p.C[2].AsSpan(s * width, width);
            var xbb = p.C[3].AsSpan(s * width, width);
            var xbh = p.C[4].AsSpan(s * width, width);
            var xhh = p.C[5].AsSpan(s * width, width);
            for (int j = 0; j < width; j++)
            {
                double v0 = x0[j], vb = xb[j], vh = xh[j];
                xbb[j] = w * (xbb[j] + 2 * e * vb + e * e * v0);
                xbh[j] = w * (xbh[j] + e * vh + m * vb + e * m * v0);
                xhh[j] = w * (xhh[j] + 2 * m * vh + m * m * v0);
                xb[j] = w * (vb + e * v0);
                xh[j] = w * (vh + m * v0);
                x0[j] = w * v0;
            }
        }
    }

    /// <summary>
    /// The vertical-bond matrix [[e^b, e^-b], [e^-b, e^b]] on one bit, as jets in beta (e = +1 for equal spins,
    /// -1 for opposite; no field term), applied to all row pairs differing in that bit. SIMD over the columns.
    /// </summary>
    private static void Butterfly(Jets p, int bit, double ep, double em)
    {
        int n = p.Rows, width = p.Width;
        var c = p.C;
        for (int a = 0; a < n; a++)
        {
            if ((a & bit) != 0) continue;
            int b = a | bit;
            int oa = a * width, ob = b * width;
            int j = 0;
            if (Vector.IsHardwareAccelerated && width >= Vector<double>.Count)
            {
                var vp = new Vector<double>(ep);
                var vm = new Vector<double>(em);
                var two = new Vector<double>(2.0);
                for (; j <= width - Vector<double>.Count; j += Vector<double>.Count)
                {
                    var a0 = new Vector<double>(c[0], oa + j); var b0 = new Vector<double>(c[0], ob + j);
                    var ab = new Vector<double>(c[1], oa + j); var bb = new Vector<double>(c[1], ob + j);
                    var ah = new Vector<double>(c[2], oa + j); var bh = new Vector<double>(c[2], ob + j);
                    var abb = new Vector<double>(c[3], oa + j); var bbb = new Vector<double>(c[3], ob + j);
                    var abh = new Vector<double>(c[4], oa + j); var bbh = new Vector<double>(c[4], ob + j);
                    var ahh = new Vector<double>(c[5], oa + j); var bhh = new Vector<double>(c[5], ob + j);
                    (vp * a0 + vm * b0).CopyTo(c[0], oa + j);
                    (vm * a0 + vp * b0).CopyTo(c[0], ob + j);
                    (vp * (ab + a0) + vm * (bb - b0)).CopyTo(c[1], oa + j);
                    (vm * (ab - a0) + vp * (bb + b0)).CopyTo(c[1], ob + j);
                    (vp * ah + vm * bh).CopyTo(c[2], oa + j);
                    (vm * ah + vp * bh).CopyTo(c[2], ob + j);
                    (vp * (abb + two * ab + a0) + vm * (bbb - two * bb + b0)).CopyTo(c[3], oa + j);
                    (vm * (abb - two * ab + a0) + vp * (bbb + two * bb + b0)).CopyTo(c[3], ob + j);
                    (vp * (abh + ah) + vm * (bbh - bh)).CopyTo(c[4], oa + j);
                    (vm * (abh - ah) + vp * (bbh + bh)).CopyTo(c[4], ob + j);
                    (vp * ahh + vm * bhh).CopyTo(c[5], oa + j);
                    (vm * ahh + vp * bhh).CopyTo(c[5], ob + j);
                }
            }
            for (; j < width; j++)
            {
                double a0 = c[0][oa + j], b0 = c[0][ob + j], ab = c[1][oa + j], bb = c[1][ob + j];
                double ah = c[2][oa + j], bh = c[2][ob + j], abb = c[3][oa + j], bbb = c[3][ob + j];
                double abh = c[4][oa + j], bbh = c[4][ob + j], ahh = c[5][oa + j], bhh = c[5][ob + j];
                c[0][oa + j] = ep * a0 + em * b0;
                c[0][ob + j] = em * a0 + ep * b0;
                c[1][oa + j] = ep * (ab + a0) + em * (bb - b0);
                c[1][ob + j] = em * (ab - a0) + ep * (bb + b0);
                c[2][oa + j] = ep * ah + em * bh;
                c[2][ob + j] = em * ah + ep * bh;
                c[3][oa + j] = ep * (abb + 2 * ab + a0) + em * (bbb - 2 * bb + b0);
                c[3][ob + j] = em * (abb - 2 * ab + a0) + ep * (bbb + 2 * bb + b0);
                c[4][oa + j] = ep * (abh + ah) + em * (bbh - bh);
                c[4][ob + j] = em * (abh - ah) + ep * (bbh + bh);
                c[5][oa + j] = ep * ahh + em * bhh;
                c[5][ob + j] = em * ahh + ep * bhh;
            }
        }
    }

    /// <summary>
    /// A block of 2^L x width matrix entries, each a second-order jet, stored as six row-major arrays (pooled: a
    /// block is megabytes, and the exact field evaluates thousands of them; only the first Rows * Width are used).
    /// </summary>
    private sealed class Jets : IDisposable
    {
        public readonly int Rows, Width;
        public readonly double[][] C;

        private Jets(int rows, int width)
        {
            (Rows, Width) = (rows, width);
            C = new double[Components][];
            for (int c = 0; c < Components; c++)
            {
                C[c] = System.Buffers.ArrayPool<double>.Shared.Rent(rows * width);
                Array.Clear(C[c], 0, rows * width);
            }
        }

        /// <summary>Zeroed jets of rows x width.</summary>
        public static Jets Rent(int rows, int width) => new(rows, width);

        public Jets Copy()
        {
            var copy = new Jets(Rows, Width);
            for (int c = 0; c < Components; c++) Array.Copy(C[c], copy.C[c], Rows * Width);
            return copy;
        }

        public void Dispose()
        {
            foreach (var a in C) System.Buffers.ArrayPool<double>.Shared.Return(a);
        }
    }
}
