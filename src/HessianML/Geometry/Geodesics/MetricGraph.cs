namespace HessianML.Geometry.Geodesics;

/// <summary>
/// The global search: shortest paths on the tabulation grid of a <see cref="TabulatedMetric"/>, each node joined to
/// its 8 or 16 neighbours (16 adds the knight moves (1, 2), (2, 1), ..., which cuts the worst-case direction error of
/// a grid path from about 8% to about 3%). Edge cost = sqrt(dt^T g(mid) dt). Dijkstra finds the globally shortest
/// grid path, so the start of the refinement is in the basin of the shortest geodesic (up to the grid's direction
/// error), not just the nearest local minimum to the straight line. Edge costs are computed once per model and shared.
/// </summary>
public sealed class MetricGraph
{
    private static readonly (int Di, int Dj)[] Offsets16 =
    [
        (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1),
        (1, 2), (2, 1), (-1, 2), (-2, 1), (1, -2), (2, -1), (-1, -2), (-2, -1),
    ];

    private readonly (int Di, int Dj)[] _offsets;
    private readonly double[] _cost; // node * degree + k; +inf where the neighbour is outside the grid

    public TabulatedMetric Metric { get; }

    public int Neighbours => _offsets.Length;

    public MetricGraph(TabulatedMetric metric, int neighbours = 16)
    {
        Metric = metric ?? throw new ArgumentNullException(nameof(metric));
        if (neighbours != 8 && neighbours != 16)
            throw new ArgumentOutOfRangeException(nameof(neighbours), $"neighbours {neighbours} must be 8 or 16");
        _offsets = Offsets16[..neighbours];
        int r = metric.Resolution, deg = neighbours;
        _cost = new double[r * r * deg];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
                for (int k = 0; k < deg; k++)
                {
                    var (di, dj) = _offsets[k];
                    int ni = i + di, nj = j + dj;
                    _cost[(i * r + j) * deg + k] = ni < 0 || nj < 0 || ni >= r || nj >= r
                        ? double.PositiveInfinity
                        : metric.SegmentLength(X(i), Y(j), X(ni), Y(nj));
                }
    }

    private double X(int i) => i == Metric.Resolution - 1 ? Metric.Box.Hi1 : Metric.Box.Lo1 + i * Metric.Step1;
    private double Y(int j) => j == Metric.Resolution - 1 ? Metric.Box.Hi2 : Metric.Box.Lo2 + j * Metric.Step2;

    /// <summary>The 4 corner nodes of the grid cell containing t.</summary>
    private int[] CellCorners(double t1, double t2)
    {
        int r = Metric.Resolution;
        int i = Math.Clamp((int)((t1 - Metric.Box.Lo1) / Metric.Step1), 0, r - 2);
        int j = Math.Clamp((int)((t2 - Metric.Box.Lo2) / Metric.Step2), 0, r - 2);
        return [i * r + j, i * r + j + 1, (i + 1) * r + j, (i + 1) * r + j + 1];
    }

    /// <summary>
    /// The shortest grid path from a to b (both in the box): a, then grid nodes, then b, as parallel coordinate arrays.
    /// a and b join the graph through the corners of their cells (straight segments, midpoint cost).
    /// </summary>
    public (double[] T1, double[] T2) ShortestPath(double a1, double a2, double b1, double b2)
    {
        int r = Metric.Resolution, n = r * r, deg = _offsets.Length;
        var dist = new double[n];
        var prev = new int[n];
        Array.Fill(dist, double.PositiveInfinity);
        Array.Fill(prev, -1);
        var queue = new PriorityQueue<int, double>();
        foreach (int c in CellCorners(a1, a2))
        {
            double d = Metric.SegmentLength(a1, a2, X(c / r), Y(c % r));
            if (d < dist[c]) { dist[c] = d; queue.Enqueue(c, d); }
        }
        var endCorners = CellCorners(b1, b2);
        var endCost = endCorners.Select(c => Metric.SegmentLength(X(c / r), Y(c % r), b1, b2)).ToArray();
        double best = Metric.SegmentLength(a1, a2, b1, b2);
        bool sameCell = CellCorners(a1, a2).SequenceEqual(endCorners);
        if (!sameCell) best = double.PositiveInfinity; // direct segment only within one cell (beyond it the grid decides)
        int bestVia = -1;
        var done = new bool[n];
        while (queue.TryDequeue(out int u, out double du))
        {
            if (done[u] || du > dist[u]) continue;
            if (du >= best) break;
            done[u] = true;
            for (int e = 0; e < 4; e++)
                if (endCorners[e] == u && du + endCost[e] < best) { best = du + endCost[e]; bestVia = u; }
            int ui = u / r, uj = u % r, baseIdx = u * deg;
            for (int k = 0; k < deg; k++)
            {
                double w = _cost[baseIdx + k];
                if (double.IsPositiveInfinity(w)) continue;
                int v = (ui + _offsets[k].Di) * r + uj + _offsets[k].Dj;
                double dv = du + w;
                if (dv < dist[v]) { dist[v] = dv; prev[v] = u; queue.Enqueue(v, dv); }
            }
        }
        var nodes = new List<int>();
        for (int v = bestVia; v >= 0; v = prev[v]) nodes.Add(v);
        nodes.Reverse();
        var t1 = new double[nodes.Count + 2];
        var t2 = new double[nodes.Count + 2];
        (t1[0], t2[0]) = (a1, a2);
        for (int q = 0; q < nodes.Count; q++) (t1[q + 1], t2[q + 1]) = (X(nodes[q] / r), Y(nodes[q] % r));
        (t1[^1], t2[^1]) = (b1, b2);
        return (t1, t2);
    }
}
