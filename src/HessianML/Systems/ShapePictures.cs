using System.Globalization;
using HessianML.Features;
using HessianML.Imaging;

namespace HessianML.Systems;

/// <summary>
/// A small fixed generator of pictures over a 2D latent t = (t1, t2) in [0, 1]^2 with a known phase change: a shape
/// on a gray ground that is a disc below the curve t2 = <see cref="Boundary"/>(t1) and a square above it, while its size
/// follows t1 and its colour t2 smoothly on both sides. The class switch is the only jump, so the Fisher metric of a
/// featuriser's embeddings should be large along that curve and nowhere else: the image path's analogue of a
/// phase boundary, scored with <see cref="Evaluation.Diffusion.PhaseBoundary"/> against <see cref="PhaseMap"/>.
/// Deterministic (no random numbers): the same t gives the same bytes.
/// </summary>
public static class ShapePictures
{
    /// <summary>The phase boundary: t2 = 0.3 + 0.4 t1^2 (a curve, so a straight-line fit would not find it).</summary>
    public static double Boundary(double t1) => 0.3 + 0.4 * t1 * t1;

    /// <summary>0 (disc) below the boundary, 1 (square) on or above it.</summary>
    public static int Phase(double t1, double t2) => t2 < Boundary(t1) ? 0 : 1;

    /// <summary>
    /// The picture at t, <paramref name="side"/> x <paramref name="side"/> RGB: a centred disc or square (by
    /// <see cref="Phase"/>) of half-width (0.2 + 0.15 t1) * side, coloured (60 + 150 t2, 190 - 110 t2, 90 + 60 t1) on
    /// gray 128. A square and a disc of the same half-width differ in the corners only, about a fifth of the shape's area.
    /// </summary>
    public static RgbImage Render(double t1, double t2, int side = 64)
    {
        if (side < 8) throw new ArgumentOutOfRangeException(nameof(side), side, "pictures need a side of at least 8 pixels");
        if (!(t1 is >= 0 and <= 1) || !(t2 is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(t1), $"t = ({t1}, {t2}) must lie in [0, 1]^2");
        bool square = Phase(t1, t2) == 1;
        double half = (0.2 + 0.15 * t1) * side, centre = side / 2.0;
        byte r = (byte)Math.Round(60 + 150 * t2), g = (byte)Math.Round(190 - 110 * t2), b = (byte)Math.Round(90 + 60 * t1);
        var rgb = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                double dx = x + 0.5 - centre, dy = y + 0.5 - centre;
                bool inside = square ? Math.Max(Math.Abs(dx), Math.Abs(dy)) <= half : dx * dx + dy * dy <= half * half;
                int o = 3 * (y * side + x);
                (rgb[o], rgb[o + 1], rgb[o + 2]) = inside ? (r, g, b) : ((byte)128, (byte)128, (byte)128);
            }
        return new RgbImage(side, side, rgb);
    }

    /// <summary>
    /// The phases at the F x F cell centres of the unit square (index iy * F + ix, ix along t1): the true map that
    /// <see cref="Evaluation.Diffusion.PhaseBoundary.TrueCells"/> turns into boundary cells.
    /// </summary>
    public static int[] PhaseMap(int fineGrid)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fineGrid, 1);
        var phases = new int[fineGrid * fineGrid];
        for (int iy = 0; iy < fineGrid; iy++)
            for (int ix = 0; ix < fineGrid; ix++)
                phases[iy * fineGrid + ix] = Phase((ix + 0.5) / fineGrid, (iy + 0.5) / fineGrid);
        return phases;
    }

    /// <summary>
    /// Writes the pictures at the n x n cell centres of the unit square into <paramref name="folder"/> as PNGs named as
    /// the paper's released code names its renders (<c>shape_IIJJ_a0.1234_b0.5678.png</c>), for
    /// <see cref="ImageDataset.FromFolder"/>. Returns the paths.
    /// </summary>
    public static IReadOnlyList<string> WriteFolder(string folder, int n, int side = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        Directory.CreateDirectory(folder);
        var paths = new List<string>(n * n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double a = (i + 0.5) / n, b = (j + 0.5) / n;
                string path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"shape_{i:D2}{j:D2}_a{a:F4}_b{b:F4}.png"));
                var image = Render(a, b, side);
                PngWriter.Write(path, image.Pixels, side, side);
                paths.Add(path);
            }
        return paths;
    }
}
