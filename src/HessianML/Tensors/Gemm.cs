namespace HessianML.Tensors;

/// <summary>
/// Dense matrix multiply on row-major arrays: C = op(A) * op(B) (or C += … when accumulate is set).
/// op(A) is m x k: A is stored m x k, or k x m when transA. op(B) is k x n: B is stored k x n, or n x k when transB.
/// </summary>
public static class Gemm
{
    public static void Multiply(float[] a, float[] b, float[] c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false)
        => Naive(a, b, c, m, n, k, transA, transB, accumulate);

    public static void Multiply(double[] a, double[] b, double[] c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false)
        => Naive(a, b, c, m, n, k, transA, transB, accumulate);

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
