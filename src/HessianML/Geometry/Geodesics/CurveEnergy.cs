namespace HessianML.Geometry.Geodesics;

/// <summary>
/// The discrete curve functionals of METHOD §5 on a polyline t_0..t_{M-1} stored interleaved (t1, t2, t1, t2, ...):
/// energy with the midpoint metric, segments longer than a table cell subdivided (optionally plus the released
/// smoothness term), its exact gradient (the metric's
/// gradient is that of the bilinear interpolant, <see cref="TabulatedMetric.Interpolate"/>), metric length, resampling
/// to points equidistant in metric length, and the curvature score of METHOD §7.
/// </summary>
public static class CurveEnergy
{
    /// <summary>
    /// E = sum_j dt_j^T g(mid_j) dt_j + smoothness * sum_j |dt_{j+1} - dt_j|^2 (dt_j = t_{j+1} - t_j), and dE/dt for
    /// every point (the ends included; a caller that fixes the ends ignores those entries) into <paramref name="grad"/>
    /// when it is not empty.
    /// </summary>
    public static double Evaluate(TabulatedMetric metric, ReadOnlySpan<double> x, double smoothness, Span<double> grad)
    {
        int m = x.Length / 2;
        bool withGrad = !grad.IsEmpty;
        if (withGrad) grad.Clear();
        Span<double> g = stackalloc double[3], d1 = stackalloc double[3], d2 = stackalloc double[3];
        double e = 0;
        for (int j = 0; j < m - 1; j++)
        {
            double p1 = x[2 * j], p2 = x[2 * j + 1], q1 = x[2 * j + 2], q2 = x[2 * j + 3];
            double a = q1 - p1, b = q2 - p2;
            // Composite midpoint rule over the segment's sub-segments (one for segments within a table cell, so this is
            // the released midpoint energy there): dt^T gbar dt, gbar the mean of g at the sub-midpoints.
            int n = metric.Subdivisions(p1, p2, q1, q2);
            double g11 = 0, g12 = 0, g22 = 0, mp1 = 0, mp2 = 0, mq1 = 0, mq2 = 0;
            for (int s = 0; s < n; s++)
            {
                double w = (s + 0.5) / n;
                metric.Interpolate(p1 + w * a, p2 + w * b, g, withGrad ? d1 : default, withGrad ? d2 : default);
                g11 += g[0] / n; g12 += g[1] / n; g22 += g[2] / n;
                if (!withGrad) continue;
                // d/dpoint of dt^T g dt at this sub-midpoint, shared between the ends by its weights (1 - w, w).
                double v1 = (a * a * d1[0] + 2 * a * b * d1[1] + b * b * d1[2]) / n;
                double v2 = (a * a * d2[0] + 2 * a * b * d2[1] + b * b * d2[2]) / n;
                mp1 += (1 - w) * v1; mp2 += (1 - w) * v2;
                mq1 += w * v1; mq2 += w * v2;
            }
            double ga = g11 * a + g12 * b, gb = g12 * a + g22 * b;
            e += a * ga + b * gb;
            if (!withGrad) continue;
            grad[2 * j] += -2 * ga + mp1;
            grad[2 * j + 1] += -2 * gb + mp2;
            grad[2 * j + 2] += 2 * ga + mq1;
            grad[2 * j + 3] += 2 * gb + mq2;
        }
        if (smoothness != 0)
            for (int j = 0; j < m - 2; j++)
                for (int c = 0; c < 2; c++)
                {
                    double s = x[2 * j + 4 + c] - 2 * x[2 * j + 2 + c] + x[2 * j + c];
                    e += smoothness * s * s;
                    if (!withGrad) continue;
                    grad[2 * j + c] += 2 * smoothness * s;
                    grad[2 * j + 2 + c] -= 4 * smoothness * s;
                    grad[2 * j + 4 + c] += 2 * smoothness * s;
                }
        return e;
    }

    /// <summary>Metric length of each segment, sqrt(dt_j^T g(mid_j) dt_j).</summary>
    public static double[] SegmentLengths(TabulatedMetric metric, ReadOnlySpan<double> x)
    {
        int m = x.Length / 2;
        var l = new double[Math.Max(0, m - 1)];
        for (int j = 0; j < m - 1; j++) l[j] = metric.SegmentLength(x[2 * j], x[2 * j + 1], x[2 * j + 2], x[2 * j + 3]);
        return l;
    }

    /// <summary>
    /// <paramref name="count"/> points along the polyline, equidistant in metric length (linear within segments;
    /// segment lengths by the midpoint rule). The first and last points are the polyline's ends, bit for bit.
    /// </summary>
    public static double[] Resample(TabulatedMetric metric, ReadOnlySpan<double> x, int count)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), $"{count} points: a path needs at least 2");
        int m = x.Length / 2;
        var l = SegmentLengths(metric, x);
        double total = l.Sum();
        var y = new double[2 * count];
        int seg = 0;
        double before = 0; // length up to the start of seg
        for (int k = 1; k < count - 1; k++)
        {
            double s = total * k / (count - 1);
            while (seg < m - 2 && before + l[seg] < s) before += l[seg++];
            double f = l[seg] > 0 ? Math.Clamp((s - before) / l[seg], 0, 1) : 0;
            y[2 * k] = x[2 * seg] + f * (x[2 * seg + 2] - x[2 * seg]);
            y[2 * k + 1] = x[2 * seg + 1] + f * (x[2 * seg + 3] - x[2 * seg + 1]);
        }
        (y[0], y[1]) = (x[0], x[1]);
        (y[^2], y[^1]) = (x[^2], x[^1]);
        return y;
    }

    /// <summary>
    /// METHOD §7 curvature: the mean angle change per unit length between consecutive segments, here in the
    /// parameter plane: sum of turning angles (radians) / Euclidean length of the polyline (a circle of radius r
    /// scores 1/r, a straight line 0). Zero-length segments are skipped.
    /// </summary>
    public static double Curvature(ReadOnlySpan<double> x)
    {
        int m = x.Length / 2;
        double turn = 0, length = 0, pa = 0, pb = 0;
        bool havePrev = false;
        for (int j = 0; j < m - 1; j++)
        {
            double a = x[2 * j + 2] - x[2 * j], b = x[2 * j + 3] - x[2 * j + 1];
            double n = Math.Sqrt(a * a + b * b);
            if (n == 0) continue;
            length += n;
            if (havePrev) turn += Math.Abs(Math.Atan2(pa * b - pb * a, pa * a + pb * b));
            (pa, pb, havePrev) = (a, b, true);
        }
        return length > 0 ? turn / length : 0;
    }
}
