using HessianML.Posterior;

namespace HessianML.Geometry;

/// <summary>
/// The standardised coordinates u of a box: per axis, the family's coordinate w(t) (t, or -log t:
/// <see cref="ExponentialCoordinate"/>) mapped affinely so that the box spans [-1, 1]. Shared by the log-sum-exp psi
/// (affine in u) and the exponential-family posterior head (logits linear in u), so both mean the same u.
/// </summary>
public sealed class StandardCoordinates
{
    public StandardCoordinates(ParameterBox box, ExponentialCoordinate coordinate1, ExponentialCoordinate coordinate2)
    {
        ArgumentNullException.ThrowIfNull(box);
        (Box, Coordinate1, Coordinate2) = (box, coordinate1, coordinate2);
        for (int axis = 0; axis < 2; axis++)
            if ((axis == 0 ? coordinate1 : coordinate2) == ExponentialCoordinate.NegativeLog && !((axis == 0 ? box.Lo1 : box.Lo2) > 0))
                throw new ArgumentException($"t{axis + 1} in -log coordinates needs a box with t{axis + 1} > 0, got {box}");
        Centre = (Mid(coordinate1, box.Lo1, box.Hi1), Mid(coordinate2, box.Lo2, box.Hi2));
        HalfWidth = (Half(coordinate1, box.Lo1, box.Hi1), Half(coordinate2, box.Lo2, box.Hi2));
    }

    public ParameterBox Box { get; }

    public ExponentialCoordinate Coordinate1 { get; }

    public ExponentialCoordinate Coordinate2 { get; }

    /// <summary>Centre of the box in w, the origin of u.</summary>
    public (double C1, double C2) Centre { get; }

    /// <summary>Half-widths of the box in w, the units of u.</summary>
    public (double H1, double H2) HalfWidth { get; }

    public double U1(double t1) => (Warp(Coordinate1, t1).W - Centre.C1) / HalfWidth.H1;

    public double U2(double t2) => (Warp(Coordinate2, t2).W - Centre.C2) / HalfWidth.H2;

    /// <summary>w(t) and its first and second derivatives for an axis.</summary>
    public static (double W, double D1, double D2) Warp(ExponentialCoordinate coordinate, double t) =>
        coordinate == ExponentialCoordinate.NegativeLog ? (-Math.Log(t), -1 / t, 1 / (t * t)) : (t, 1, 0);

    private static double Mid(ExponentialCoordinate c, double lo, double hi) => (Warp(c, lo).W + Warp(c, hi).W) / 2;

    private static double Half(ExponentialCoordinate c, double lo, double hi) => Math.Abs(Warp(c, hi).W - Warp(c, lo).W) / 2;
}
