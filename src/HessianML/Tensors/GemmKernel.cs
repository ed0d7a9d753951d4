using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HessianML.Tensors;

/// <summary>Which micro-kernel the blocked GEMM uses; tests force each one so the fallbacks stay correct.</summary>
internal enum GemmPath
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Goto/BLIS-style GEMM: op(B) is packed into kc x nr panels and op(A) into mr x kc panels (so transposes cost
/// nothing in the inner loop), and a register-blocked SIMD micro-kernel computes an mr x nr tile of C per call.
/// </summary>
/// <remarks>
/// Loop nest (per thread, over that thread's own block of C):
/// jc (NC columns) -> pc (KC depth; pack B) -> ic (MC rows; pack A) -> jr (nr) -> ir (mr) -> micro-kernel.
/// The packed B micro-panel (kc x nr) stays in L1 across the ir loop and the packed A block (mc x kc) in L2.
/// Each tile's partial sum over one kc block is accumulated from zero in registers and then added to C, for
/// full and edge tiles alike, so a C element's value depends only on k's blocking — never on which thread or
/// which tile shape computed it. Parallel runs are therefore bit-identical to single-threaded ones.
/// </remarks>
internal static unsafe class GemmKernel
{
    /// <summary>Depth of a packed block: a kc x nr float B micro-panel (256 x 32 x 4 B = 32 KiB) fits L1.</summary>
    internal const int KC = 256;

    /// <summary>
    /// Up to this depth k is done in one block even though the B micro-panel then spills L1 into L2: C is then
    /// written once instead of read-modified-written k/KC times, measured ~8% faster for the MLP's k = 512
    /// (the depth blocking depends only on k, so this keeps results thread-count independent).
    /// </summary>
    internal const int KCSingle = 512;

    /// <summary>Rows of A packed at once (a multiple of every mr); mc x kc floats is 144-288 KiB, inside the 1 MiB L2.</summary>
    internal const int MC = 144;

    /// <summary>Columns of B packed at once; bounds the pooled B buffer (at most 1024 x 512 floats = 2 MiB per thread).</summary>
    internal const int NC = 1024;

    /// <summary>Below this many multiply-adds a second thread costs more than it saves.</summary>
    internal const double ParallelThreshold = 1e6;

    internal static readonly GemmPath DefaultPath =
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated ? GemmPath.Vector256
        : GemmPath.Scalar;

    internal static (int Mr, int Nr) Tile<T>(GemmPath path) where T : unmanaged => path switch
    {
        GemmPath.Vector512 => (6, 2 * Vector512<T>.Count),
        GemmPath.Vector256 => (6, 2 * Vector256<T>.Count),
        _ => (ScalarMr, ScalarNr),
    };

    private const int ScalarMr = 4, ScalarNr = 4;

    /// <summary>
    /// Entry point after validation. <paramref name="threads"/> = 0 picks automatically (all cores for large
    /// problems, one below <see cref="ParallelThreshold"/>); tests pass an explicit count to exercise the split.
    /// </summary>
    internal static void Run<T>(T[] a, T[] b, T[] c, int m, int n, int k, bool transA, bool transB, bool accumulate,
        GemmPath path, int threads)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            // An empty sum: C = 0, or C unchanged when accumulating.
            if (!accumulate) Array.Clear(c, 0, m * n);
            return;
        }

        // Matrix-vector shapes (the MLP's 1-wide output layer): padding them to an mr x nr tile would waste
        // most of the kernel's work, and with contiguous operands they are plain dot products / axpys.
        if (n == 1 && !transA)
        {
            var bs = new ReadOnlySpan<T>(b, 0, k);
            for (int i = 0; i < m; i++)
            {
                T s = TensorPrimitives.Dot(new ReadOnlySpan<T>(a, i * k, k), bs);
                c[i] = accumulate ? c[i] + s : s;
            }
            return;
        }
        if (m == 1 && !transB)
        {
            // c[j] (+)= sum_p a[p] B[p, j], accumulated row by row in a fixed order.
            var row = new Span<T>(c, 0, n);
            if (!accumulate) row.Clear();
            for (int p = 0; p < k; p++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(b, p * n, n), a[p], row, row);
            return;
        }

        if (n == 1 && transA)
        {
            // c[i] (+)= sum_p A[p, i] b[p] (a vector times a matrix: the backward of a matrix-vector product). The
            // blocked kernel would pack all of A and pad the one column to a whole tile; here the rows of the stored A
            // are scaled and added. The arithmetic is the kernel's own: per depth block a multiply-add chain from zero
            // (fused on the SIMD paths, as the micro-kernels do), then added to C, so the bits are the same.
            int kcBlock = k <= KCSingle ? k : KC;
            T[] acc = ArrayPool<T>.Shared.Rent(m);
            try
            {
                var sum = new Span<T>(acc, 0, m);
                var row = new Span<T>(c, 0, m);
                for (int pc = 0; pc < k; pc += kcBlock)
                {
                    sum.Clear();
                    for (int p = pc, end = Math.Min(k, pc + kcBlock); p < end; p++)
                    {
                        var ap = new ReadOnlySpan<T>(a, p * m, m);
                        if (path == GemmPath.Scalar) TensorPrimitives.MultiplyAdd(ap, b[p], sum, sum);
                        else TensorPrimitives.FusedMultiplyAdd(ap, b[p], sum, sum);
                    }
                    if (pc == 0 && !accumulate) sum.CopyTo(row);
                    else TensorPrimitives.Add(sum, row, row);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(acc);
            }
            return;
        }

        var (mr, nr) = Tile<T>(path);
        if (threads <= 0)
            threads = (double)m * n * k < ParallelThreshold ? 1 : Environment.ProcessorCount;

        // Split C into `threads` disjoint slabs along its longer side (in whole tiles), so each thread packs
        // only the part of A or B it needs and no two threads ever write the same element.
        bool splitRows = (m + mr - 1) / mr >= (n + nr - 1) / nr;
        int unit = splitRows ? mr : nr, extent = splitRows ? m : n;
        int tiles = (extent + unit - 1) / unit;
        threads = Math.Clamp(threads, 1, tiles);
        int chunk = (tiles + threads - 1) / threads * unit;
        threads = (extent + chunk - 1) / chunk;

        if (threads == 1)
        {
            fixed (T* pa = a, pb = b, pc = c)
                Blocked(pa, pb, pc, m, n, k, transA, transB, accumulate, path, 0, m, 0, n);
            return;
        }

        Parallel.For(0, threads, t =>
        {
            int lo = t * chunk, hi = Math.Min(extent, lo + chunk);
            fixed (T* pa = a, pb = b, pc = c)
            {
                if (splitRows) Blocked(pa, pb, pc, m, n, k, transA, transB, accumulate, path, lo, hi, 0, n);
                else Blocked(pa, pb, pc, m, n, k, transA, transB, accumulate, path, 0, m, lo, hi);
            }
        });
    }

    /// <summary>Computes rows [i0, i1) x columns [j0, j1) of C with pooled packing buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<T>(T* a, T* b, T* c, int m, int n, int k, bool transA, bool transB, bool accumulate,
        GemmPath path, int i0, int i1, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var (mr, nr) = Tile<T>(path);
        int mcMax = Math.Min(MC, RoundUp(i1 - i0, mr));
        int ncMax = Math.Min(NC / nr * nr, RoundUp(j1 - j0, nr));
        int kcMax = k <= KCSingle ? k : KC;
        // 64 spare elements let the packed panels start on a 64-byte boundary (whole cache lines per load).
        T[] bufA = ArrayPool<T>.Shared.Rent(mcMax * kcMax + 64);
        T[] bufB = ArrayPool<T>.Shared.Rent(ncMax * kcMax + 64);
        T* tile = stackalloc T[mr * nr];
        try
        {
            fixed (T* rawA = bufA, rawB = bufB)
            {
                T* pa = Align(rawA), pb = Align(rawB);
                for (int jc = j0; jc < j1; jc += ncMax)
                {
                    int nc = Math.Min(ncMax, j1 - jc);
                    for (int pc = 0; pc < k; pc += kcMax)
                    {
                        int kc = Math.Min(kcMax, k - pc);
                        bool first = pc == 0 && !accumulate;
                        PackB(b, n, k, transB, pc, kc, jc, nc, nr, pb);
                        for (int ic = i0; ic < i1; ic += mcMax)
                        {
                            int mc = Math.Min(mcMax, i1 - ic);
                            PackA(a, m, k, transA, ic, mc, pc, kc, mr, pa);
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int cols = Math.Min(nr, nc - jr);
                                T* bPanel = pb + (nint)jr * kc;
                                for (int ir = 0; ir < mc; ir += mr)
                                {
                                    int rows = Math.Min(mr, mc - ir);
                                    T* aPanel = pa + (nint)ir * kc;
                                    T* ct = c + (nint)(ic + ir) * n + jc + jr;
                                    if (rows == mr && cols == nr)
                                    {
                                        Micro(path, aPanel, bPanel, ct, n, kc, first);
                                    }
                                    else
                                    {
                                        // Edge tile: full-size kernel into scratch, then the valid corner.
                                        Micro(path, aPanel, bPanel, tile, nr, kc, overwrite: true);
                                        for (int r = 0; r < rows; r++)
                                        {
                                            T* dst = ct + (nint)r * n, src = tile + r * nr;
                                            if (first)
                                                for (int q = 0; q < cols; q++) dst[q] = src[q];
                                            else
                                                for (int q = 0; q < cols; q++) dst[q] += src[q];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(bufA);
            ArrayPool<T>.Shared.Return(bufB);
        }
    }

    /// <summary>
    /// How many rows ahead the row-streaming packers prefetch. The packed operands come from matrices of several
    /// MB that live in L3 or DRAM; prefetching cut the transposed-A packing time by about a third (TN ~3% overall).
    /// </summary>
    private const int PrefetchRows = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(void* p)
    {
        // A hint only: never faults, and compiles to nothing where SSE is absent.
        if (Sse.IsSupported) Sse.Prefetch0(p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRange(void* p, int bytes)
    {
        if (!Sse.IsSupported) return;
        for (int q = 0; q < bytes; q += 64) Sse.Prefetch0((byte*)p + q);
    }

    private static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;

    private static T* Align<T>(T* p) where T : unmanaged => (T*)(((nint)p + 63) & ~(nint)63);

    /// <summary>
    /// Packs op(A)[i0..i0+mc, p0..p0+kc] into mr-row panels: panel r holds, for each p, mr consecutive values
    /// (rows past mc are zero so the kernel never needs a row count).
    /// </summary>
    /// <remarks>
    /// Both layouts read the source sequentially (whole rows of the stored matrix) so the hardware prefetcher
    /// streams them; a column-at-a-time walk over a 2 KiB row stride thrashes L1 and ran several times slower.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA<T>(T* a, int m, int k, bool transA, int i0, int mc, int p0, int kc, int mr, T* dst)
        where T : unmanaged
    {
        if (transA)
        {
            // A is stored k x m: row p0+p of A holds op(A)[i0.., p] contiguously; deal it out to the panels.
            int full = mc / mr * mr;
            for (int p = 0; p < kc; p++)
            {
                T* s = a + (nint)(p0 + p) * m + i0;
                T* d = dst + (nint)p * mr;
                if (p + PrefetchRows < kc) PrefetchRange(a + (nint)(p0 + p + PrefetchRows) * m + i0, mc * sizeof(T));
                int ir = 0;
                for (; ir < full; ir += mr)
                {
                    T* dp = d + (nint)ir * kc;
                    for (int ii = 0; ii < mr; ii++) dp[ii] = s[ir + ii];
                }
                if (ir < mc)
                {
                    T* dp = d + (nint)ir * kc;
                    int ii = 0;
                    for (; ir + ii < mc; ii++) dp[ii] = s[ir + ii];
                    for (; ii < mr; ii++) dp[ii] = default;
                }
            }
            return;
        }

        // A is stored m x k: walk mr rows side by side, p outer, so reads are mr sequential streams and
        // writes are one sequential stream.
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            T* d = dst + (nint)ir * kc;
            T* s = a + (nint)(i0 + ir) * k + p0;
            if (rows == 6 && mr == 6)
            {
                T* s1 = s + k, s2 = s1 + k, s3 = s2 + k, s4 = s3 + k, s5 = s4 + k;
                // While this panel is copied, pull the next panel's six rows in a cache line at a time.
                T* next = ir + 2 * mr <= mc ? s5 + k : null;
                int lineMask = 64 / sizeof(T) - 1;
                for (int p = 0; p < kc; p++, d += 6)
                {
                    if (next != null && (p & lineMask) == 0)
                        for (int q = 0; q < 6; q++) Prefetch(next + (nint)q * k + p);
                    d[0] = s[p]; d[1] = s1[p]; d[2] = s2[p];
                    d[3] = s3[p]; d[4] = s4[p]; d[5] = s5[p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++, d += mr)
                {
                    int ii = 0;
                    for (; ii < rows; ii++) d[ii] = s[(nint)ii * k + p];
                    for (; ii < mr; ii++) d[ii] = default;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into nr-column panels: panel s holds, for each p, nr consecutive
    /// values (columns past nc are zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB<T>(T* b, int n, int k, bool transB, int p0, int kc, int j0, int nc, int nr, T* dst)
        where T : unmanaged
    {
        if (!transB)
        {
            // B is stored k x n: read row p0+p of B sequentially and deal nr-wide pieces out to the panels.
            int full = nc / nr * nr;
            for (int p = 0; p < kc; p++)
            {
                T* s = b + (nint)(p0 + p) * n + j0;
                T* d = dst + (nint)p * nr;
                if (p + PrefetchRows < kc) PrefetchRange(b + (nint)(p0 + p + PrefetchRows) * n + j0, nc * sizeof(T));
                int jr = 0;
                for (; jr < full; jr += nr)
                    new ReadOnlySpan<T>(s + jr, nr).CopyTo(new Span<T>(d + (nint)jr * kc, nr));
                if (jr < nc)
                {
                    T* dp = d + (nint)jr * kc;
                    int jj = 0;
                    for (; jr + jj < nc; jj++) dp[jj] = s[jr + jj];
                    for (; jj < nr; jj++) dp[jj] = default;
                }
            }
            return;
        }

        // B is stored n x k: column j of op(B) is row j of B. Take 8 rows at a time (8 sequential read streams;
        // all nr at once would overflow L1's ways at power-of-two strides) and interleave them per p.
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            T* d = dst + (nint)jr * kc;
            for (int j8 = 0; j8 < nr; j8 += 8)
            {
                int live = Math.Clamp(cols - j8, 0, 8);
                T* s = b + (nint)(j0 + jr + j8) * k + p0;
                if (live == 8)
                {
                    T* s1 = s + k, s2 = s1 + k, s3 = s2 + k, s4 = s3 + k, s5 = s4 + k, s6 = s5 + k, s7 = s6 + k;
                    T* dp = d + j8;
                    for (int p = 0; p < kc; p++, dp += nr)
                    {
                        dp[0] = s[p]; dp[1] = s1[p]; dp[2] = s2[p]; dp[3] = s3[p];
                        dp[4] = s4[p]; dp[5] = s5[p]; dp[6] = s6[p]; dp[7] = s7[p];
                    }
                }
                else
                {
                    int width = Math.Min(8, nr - j8);
                    T* dp = d + j8;
                    for (int p = 0; p < kc; p++, dp += nr)
                    {
                        int jj = 0;
                        for (; jj < live; jj++) dp[jj] = s[(nint)jj * k + p];
                        for (; jj < width; jj++) dp[jj] = default;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Micro<T>(GemmPath path, T* a, T* b, T* c, nint ldc, int kc, bool overwrite)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (path)
        {
            case GemmPath.Vector512: Kernel512(a, b, c, ldc, kc, overwrite); break;
            case GemmPath.Vector256: Kernel256(a, b, c, ldc, kc, overwrite); break;
            default: KernelScalar(a, b, c, ldc, kc, overwrite); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), z.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), z.As<T, double>()).As<double, T>();
        return x * y + z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> z) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), z.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), z.As<T, double>()).As<double, T>();
        return x * y + z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<T>(T* row, Vector512<T> v0, Vector512<T> v1, bool overwrite) where T : unmanaged
    {
        T* row1 = row + Vector512<T>.Count;
        if (!overwrite)
        {
            v0 += Vector512.Load(row);
            v1 += Vector512.Load(row1);
        }
        v0.Store(row);
        v1.Store(row1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<T>(T* row, Vector256<T> v0, Vector256<T> v1, bool overwrite) where T : unmanaged
    {
        T* row1 = row + Vector256<T>.Count;
        if (!overwrite)
        {
            v0 += Vector256.Load(row);
            v1 += Vector256.Load(row1);
        }
        v0.Store(row);
        v1.Store(row1);
    }

    /// <summary>
    /// 6 x (2 x 512-bit) tile: 12 accumulators + 2 B vectors + 1 broadcast stay in registers; per k step it
    /// loads 2 vectors of B and 6 scalars of A for 12 FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<T>(T* a, T* b, T* c, nint ldc, int kc, bool overwrite) where T : unmanaged
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var x = Vector512.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a += 6;
            b += 2 * w;
        }
        Put(c, c00, c01, overwrite);
        Put(c + ldc, c10, c11, overwrite);
        Put(c + 2 * ldc, c20, c21, overwrite);
        Put(c + 3 * ldc, c30, c31, overwrite);
        Put(c + 4 * ldc, c40, c41, overwrite);
        Put(c + 5 * ldc, c50, c51, overwrite);
    }

    /// <summary>The same 6 x (2 x vector) tile with 256-bit vectors, for AVX2-only machines.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256<T>(T* a, T* b, T* c, nint ldc, int kc, bool overwrite) where T : unmanaged
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var x = Vector256.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a += 6;
            b += 2 * w;
        }
        Put(c, c00, c01, overwrite);
        Put(c + ldc, c10, c11, overwrite);
        Put(c + 2 * ldc, c20, c21, overwrite);
        Put(c + 3 * ldc, c30, c31, overwrite);
        Put(c + 4 * ldc, c40, c41, overwrite);
        Put(c + 5 * ldc, c50, c51, overwrite);
    }

    /// <summary>Portable 4 x 4 tile for machines without SIMD acceleration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelScalar<T>(T* a, T* b, T* c, nint ldc, int kc, bool overwrite)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T* acc = stackalloc T[ScalarMr * ScalarNr];
        for (int q = 0; q < ScalarMr * ScalarNr; q++) acc[q] = T.Zero;
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < ScalarMr; i++)
            {
                T ai = a[i];
                T* row = acc + i * ScalarNr;
                for (int j = 0; j < ScalarNr; j++) row[j] += ai * b[j];
            }
            a += ScalarMr;
            b += ScalarNr;
        }
        for (int i = 0; i < ScalarMr; i++)
        {
            T* dst = c + i * ldc, row = acc + i * ScalarNr;
            for (int j = 0; j < ScalarNr; j++) dst[j] = overwrite ? row[j] : dst[j] + row[j];
        }
    }
}
