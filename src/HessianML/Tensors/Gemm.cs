namespace HessianML.Tensors;

/// <summary>
/// Dense matrix multiply on row-major arrays: C = op(A) * op(B) (or C += … when accumulate is set).
/// op(A) is m x k: A is stored m x k, or k x m when transA. op(B) is k x n: B is stored k x n, or n x k when transB.
/// </summary>
/// <remarks>
/// The public overloads run a cache-blocked, packed, SIMD micro-kernel GEMM (see <c>GemmKernel.cs</c>),
/// multi-threaded over disjoint blocks of C for large problems. Every element of C is reduced over k in a
/// fixed order that does not depend on the thread split, so results are bit-for-bit reproducible.
/// </remarks>
public static class Gemm
{
    public static void Multiply(float[] a, float[] b, float[] c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        Validate(a, b, c, m, n, k);
        GemmKernel.Run(a, b, c, m, n, k, transA, transB, accumulate, GemmKernel.DefaultPath, threads: 0);
    }

    public static void Multiply(double[] a, double[] b, double[] c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        Validate(a, b, c, m, n, k);
        GemmKernel.Run(a, b, c, m, n, k, transA, transB, accumulate, GemmKernel.DefaultPath, threads: 0);
    }

    /// <summary>
    /// Checks the arrays against the shape before any unsafe code touches them; the message names the
    /// short array so a caller with a mis-sized buffer sees which one at once.
    /// </summary>
    internal static void Validate<T>(T[] a, T[] b, T[] c, int m, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k)
            throw new ArgumentException($"Array a has {a.Length} elements but op(A) is {m} x {k}.", nameof(a));
        if (b.Length < (long)k * n)
            throw new ArgumentException($"Array b has {b.Length} elements but op(B) is {k} x {n}.", nameof(b));
        if (c.Length < (long)m * n)
            throw new ArgumentException($"Array c has {c.Length} elements but C is {m} x {n}.", nameof(c));
    }

    /// <summary>Reference triple loop, the yardstick the fast kernels are tested against.</summary>
    internal static void Naive<T>(T[] a, T[] b, T[] c, int m, int n, int k, bool transA, bool transB, bool accumulate)
        where T : System.Numerics.IFloatingPoint<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }
}
