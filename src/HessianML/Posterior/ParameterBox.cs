using System.Globalization;

namespace HessianML.Posterior;

/// <summary>
/// The compact parameter box S = [Lo1, Hi1] x [Lo2, Hi2] the latent points t live in, and its regular K1 x K2 grid of
/// cell centres on which posteriors, psi and the metric field are tabulated. Grid index k = i * K2 + j, where i
/// counts cells along t1 and j along t2 (row-major, t2 fastest), the same order as every metric-field CSV.
/// </summary>
public sealed record ParameterBox
{
    public double Lo1 { get; }
    public double Hi1 { get; }
    public double Lo2 { get; }
    public double Hi2 { get; }

    public ParameterBox(double lo1, double hi1, double lo2, double hi2)
    {
        Check(lo1, hi1, "t1");
        Check(lo2, hi2, "t2");
        (Lo1, Hi1, Lo2, Hi2) = (lo1, hi1, lo2, hi2);
    }

    public double Width1 => Hi1 - Lo1;
    public double Width2 => Hi2 - Lo2;

    /// <summary>True when both sides have positive length (a box, not a line or a point).</summary>
    public bool IsProper => Width1 > 0 && Width2 > 0;

    public bool Contains(double t1, double t2) => t1 >= Lo1 && t1 <= Hi1 && t2 >= Lo2 && t2 <= Hi2;

    /// <summary>Centre of cell i (of k) along t1.</summary>
    public double Centre1(int i, int k) => Lo1 + (i + 0.5) * Width1 / k;

    /// <summary>Centre of cell j (of k) along t2.</summary>
    public double Centre2(int j, int k) => Lo2 + (j + 0.5) * Width2 / k;

    /// <summary>The k1 x k2 cell centres as a flat (k1*k2) x 2 array, row-major (t2 fastest).</summary>
    public double[] CellCentres(int k1, int k2)
    {
        if (k1 < 1 || k2 < 1)
            throw new ArgumentOutOfRangeException(nameof(k1), $"grid {k1} x {k2} must have at least one cell per side");
        var points = new double[k1 * k2 * 2];
        for (int i = 0; i < k1; i++)
            for (int j = 0; j < k2; j++)
            {
                points[(i * k2 + j) * 2] = Centre1(i, k1);
                points[(i * k2 + j) * 2 + 1] = Centre2(j, k2);
            }
        return points;
    }

    /// <summary>The cell (flat index) containing t, with points on the upper edges counted in the last cell.</summary>
    public int CellOf(double t1, double t2, int k1, int k2)
    {
        int i = Math.Clamp((int)Math.Floor((t1 - Lo1) / Width1 * k1), 0, k1 - 1);
        int j = Math.Clamp((int)Math.Floor((t2 - Lo2) / Width2 * k2), 0, k2 - 1);
        return i * k2 + j;
    }

    /// <summary>The box shrunk about its centre to the given fraction of each side (e.g. 0.8 = inner 80%).</summary>
    public ParameterBox Inner(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction {fraction} must be in (0, 1]");
        double m1 = 0.5 * (1 - fraction) * Width1, m2 = 0.5 * (1 - fraction) * Width2;
        return new ParameterBox(Lo1 + m1, Hi1 - m1, Lo2 + m2, Hi2 - m2);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lo1}, {Hi1}] x [{Lo2}, {Hi2}]");

    private static void Check(double lo, double hi, string axis)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
            throw new ArgumentException($"{axis} range [{lo}, {hi}] must be finite");
        if (lo > hi)
            throw new ArgumentException($"{axis} range [{lo}, {hi}]: the lower end exceeds the upper");
    }
}
