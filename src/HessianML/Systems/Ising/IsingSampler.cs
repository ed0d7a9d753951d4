using System.Runtime.CompilerServices;

namespace HessianML.Systems.Ising;

/// <summary>
/// One Markov chain for the L x L Ising torus, p(s) ∝ exp(beta * bond sum + h * spin sum), on an sbyte lattice
/// (spins -1/+1, row-major). Two moves, each leaving p invariant:
/// <list type="bullet">
/// <item>Metropolis sweeps in typewriter order (any L, also odd) with acceptance thresholds precomputed per
/// (spin, neighbour sum) as 32-bit integers, so one 64-bit random word serves two attempts and the flip itself is
/// branch-free.</item>
/// <item>Cluster moves, so that below T_c with a weak field the sign of the magnetisation gets its right odds
/// exp(2 h |M|) (single-spin dynamics stays in whichever ordered state it fell into): Swendsen–Wang updates with a
/// ghost spin (<see cref="ClusterSweep"/>, used by the dataset chains), and single Wolff clusters
/// (<see cref="WolffStep"/>: bond probability 1 - exp(-2 beta) between equal neighbours, the field entering only
/// through a Metropolis test min(1, exp(-2 h s c)) on flipping a cluster of c spins of sign s).</item>
/// <item>With L a multiple of 128, <see cref="LocalSweeps"/> runs the multi-spin-coded checkerboard
/// (<see cref="PackedMetropolis"/>).</item>
/// </list>
/// Not thread-safe: use one sampler per thread.
/// </summary>
public sealed class IsingSampler
{
    private readonly sbyte[] _spins;
    private readonly int[] _cluster;
    private readonly ulong[] _threshold = new ulong[10];
    private ulong _addThreshold, _ghostThreshold;
    private readonly int[] _parent, _treeSize;
    private readonly PackedMetropolis? _packed;
    private readonly sbyte[] _newSpin;

    public IsingSampler(int size)
    {
        if (size < 2 || size > 1 << 14)
            throw new ArgumentOutOfRangeException(nameof(size), $"lattice size {size} must be in [2, 16384]");
        Size = size;
        _spins = new sbyte[size * size];
        _cluster = new int[size * size];
        _parent = new int[size * size + 1];
        _treeSize = new int[size * size + 1];
        _newSpin = new sbyte[size * size + 1];
        _packed = PackedMetropolis.Supports(size) ? new PackedMetropolis(size) : null;
        Spins.Fill(1);
        SetParameters(0, 0);
    }

    /// <summary>Side L of the torus.</summary>
    public int Size { get; }

    /// <summary>The spins, row-major, -1/+1 (writable: tests set configurations directly).</summary>
    public Span<sbyte> Spins => _spins;

    public double Beta { get; private set; }
    public double Field { get; private set; }

    /// <summary>Sets (beta, h) and rebuilds the acceptance tables.</summary>
    public void SetParameters(double beta, double field)
    {
        if (!double.IsFinite(beta) || beta < 0)
            throw new ArgumentOutOfRangeException(nameof(beta), $"beta {beta} must be finite and >= 0");
        if (!double.IsFinite(field))
            throw new ArgumentOutOfRangeException(nameof(field), $"field {field} must be finite");
        (Beta, Field) = (beta, field);
        for (int up = 0; up < 2; up++)
            for (int k = 0; k < 5; k++)
            {
                int s = up == 1 ? 1 : -1, nb = 2 * k - 4;
                // Flipping s changes the log-weight by -2 s (beta * nb + h).
                _threshold[up * 5 + k] = Threshold(Math.Exp(-2 * s * (beta * nb + field)));
            }
        _addThreshold = Threshold(-double.ExpM1(-2 * beta));
        _ghostThreshold = Threshold(-double.ExpM1(-2 * Math.Abs(field)));
        _packed?.SetParameters(beta, field);
    }

    /// <summary>floor(p 2^32), with p &gt;= 1 mapped to 2^32 so that every 32-bit draw is below it.</summary>
    private static ulong Threshold(double p) => p >= 1 ? 1UL << 32 : (ulong)(p * 4294967296.0);

    /// <summary>Independent uniform random spins (a hot start).</summary>
    public void Randomize(ref SampleRandom rng)
    {
        var s = _spins;
        int i = 0;
        while (i < s.Length)
        {
            ulong bits = rng.NextUInt64();
            for (int b = 0; b < 64 && i < s.Length; b++, i++)
                s[i] = (sbyte)(((bits >> b) & 1) == 1 ? 1 : -1);
        }
    }

    /// <summary>One Metropolis sweep: L*L single-spin attempts in typewriter order.</summary>
    [SkipLocalsInit]
    public unsafe void MetropolisSweep(ref SampleRandom rng)
    {
        int n = Size;
        fixed (sbyte* s = _spins)
        fixed (ulong* thr = _threshold)
        {
            ulong bits = 0;
            int have = 0;
            for (int y = 0; y < n; y++)
            {
                sbyte* row = s + y * n;
                sbyte* up = s + (y == 0 ? n - 1 : y - 1) * n;
                sbyte* down = s + (y == n - 1 ? 0 : y + 1) * n;
                for (int x = 0; x < n; x++)
                {
                    int left = x == 0 ? n - 1 : x - 1, right = x == n - 1 ? 0 : x + 1;
                    int si = row[x];
                    int nb = row[left] + row[right] + up[x] + down[x];
                    if (have == 0) { bits = rng.NextUInt64(); have = 2; }
                    ulong r = bits & 0xFFFFFFFFUL;
                    bits >>= 32;
                    have--;
                    // index: (s + 1) / 2 * 5 + (nb + 4) / 2
                    ulong t = thr[((si + 1) >> 1) * 5 + ((nb + 4) >> 1)];
                    int flip = r < t ? -2 : 0; // s ^ -2 negates a -1/+1 sbyte
                    row[x] = (sbyte)(si ^ flip);
                }
            }
        }
    }

    /// <summary>True when <see cref="LocalSweeps"/> uses the multi-spin-coded checkerboard (L a multiple of 128).</summary>
    public bool UsesPackedSweeps => _packed is not null;

    /// <summary>
    /// <paramref name="count"/> local-update sweeps with the fastest exact sampler for this size: the multi-spin-coded
    /// checkerboard Metropolis (<see cref="PackedMetropolis"/>) when L is a multiple of 128 (packed once per call),
    /// else typewriter Metropolis sweeps.
    /// </summary>
    public void LocalSweeps(ref SampleRandom rng, int count)
    {
        if (count <= 0) return;
        if (_packed is null)
        {
            for (int i = 0; i < count; i++) MetropolisSweepFast(ref rng);
            return;
        }
        _packed.Load(_spins);
        for (int i = 0; i < count; i++) _packed.Sweep(ref rng);
        _packed.Store(_spins);
    }

    /// <summary>
    /// Metropolis sweep for the benchmark and large lattices: the same update with the interior of each row free of
    /// wrap-around tests (the edges are handled apart).
    /// </summary>
    [SkipLocalsInit]
    public unsafe void MetropolisSweepFast(ref SampleRandom rng)
    {
        int n = Size;
        if (n < 4) { MetropolisSweep(ref rng); return; }
        var local = rng;
        fixed (sbyte* s = _spins)
        fixed (ulong* thr = _threshold)
        {
            for (int y = 0; y < n; y++)
            {
                sbyte* row = s + y * n;
                sbyte* up = s + (y == 0 ? n - 1 : y - 1) * n;
                sbyte* down = s + (y == n - 1 ? 0 : y + 1) * n;
                Update(row, 0, row[n - 1] + row[1] + up[0] + down[0], thr, (uint)local.NextUInt64());
                int x = 1;
                for (; x + 1 < n - 1; x += 2)
                {
                    ulong bits = local.NextUInt64();
                    Update(row, x, row[x - 1] + row[x + 1] + up[x] + down[x], thr, (uint)bits);
                    Update(row, x + 1, row[x] + row[x + 2] + up[x + 1] + down[x + 1], thr, (uint)(bits >> 32));
                }
                for (; x < n - 1; x++)
                    Update(row, x, row[x - 1] + row[x + 1] + up[x] + down[x], thr, (uint)local.NextUInt64());
                Update(row, n - 1, row[n - 2] + row[0] + up[n - 1] + down[n - 1], thr, (uint)local.NextUInt64());
            }
        }
        rng = local;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Update(sbyte* row, int x, int nb, ulong* thr, uint r)
    {
        int si = row[x];
        int flip = r < thr[((si + 1) >> 1) * 5 + ((nb + 4) >> 1)] ? -2 : 0;
        row[x] = (sbyte)(si ^ flip);
    }

    /// <summary>
    /// One Wolff cluster from a uniformly chosen seed, flipped with probability min(1, exp(-2 h s c)).
    /// Returns the cluster size (flipped or not).
    /// </summary>
    public int WolffStep(ref SampleRandom rng)
    {
        int n = Size, total = n * n;
        var s = _spins;
        var members = _cluster;
        int seed = rng.NextInt(total);
        sbyte s0 = s[seed];
        sbyte flipped = (sbyte)-s0;
        s[seed] = flipped; // flip as we add: a flipped site is never added twice
        members[0] = seed;
        int count = 1;
        ulong add = _addThreshold;
        for (int head = 0; head < count; head++)
        {
            int i = members[head];
            int y = i / n, x = i - y * n;
            int l = x == 0 ? i + n - 1 : i - 1;
            int r = x == n - 1 ? i - n + 1 : i + 1;
            int u = y == 0 ? i + total - n : i - n;
            int d = y == n - 1 ? i - total + n : i + n;
            TryAdd(s, members, ref count, l, s0, add, ref rng);
            TryAdd(s, members, ref count, r, s0, add, ref rng);
            TryAdd(s, members, ref count, u, s0, add, ref rng);
            TryAdd(s, members, ref count, d, s0, add, ref rng);
        }
        // Field: the cluster's spin sum goes from s0*count to -s0*count, log-weight change -2 h s0 count.
        double dLog = -2 * Field * s0 * count;
        if (dLog < 0 && rng.NextDouble() >= Math.Exp(dLog))
            for (int k = 0; k < count; k++)
                s[members[k]] = s0;
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TryAdd(sbyte[] s, int[] members, ref int count, int j, sbyte s0, ulong add, ref SampleRandom rng)
    {
        if (s[j] == s0 && (rng.NextUInt64() >> 32) < add)
        {
            s[j] = (sbyte)-s0;
            members[count++] = j;
        }
    }

    /// <summary>
    /// One Swendsen–Wang update with a ghost spin: bonds between equal neighbours open with 1 - exp(-2 beta), each
    /// spin pointing along the field bonds to the ghost with 1 - exp(-2 |h|); clusters joined to the ghost take the
    /// field's sign, every other cluster a fresh fair sign. WHY this and not "Wolff clusters until L^2 spins were
    /// touched": a number of cluster steps that depends on the cluster sizes seen is a state-dependent stopping time
    /// and biases the law (measured: +10% bond sum at L = 8, beta = 0.3); one SW update costs the same at every state.
    /// </summary>
    public void ClusterSweep(ref SampleRandom rng)
    {
        int n = Size, total = n * n, ghost = total;
        var s = _spins;
        var parent = _parent;
        var treeSize = _treeSize;
        for (int i = 0; i <= total; i++) parent[i] = i;
        Array.Fill(treeSize, 1);
        ulong add = _addThreshold, ghostAdd = _ghostThreshold;
        sbyte fieldSign = Field > 0 ? (sbyte)1 : (sbyte)-1;
        ulong bits = 0;
        int have = 0;
        for (int y = 0; y < n; y++)
        {
            int row = y * n, down = (y == n - 1 ? 0 : y + 1) * n;
            for (int x = 0; x < n; x++)
            {
                int i = row + x, r = row + (x == n - 1 ? 0 : x + 1), d = down + x;
                sbyte si = s[i];
                if (s[r] == si && Next32(ref rng, ref bits, ref have) < add) Union(parent, treeSize, i, r);
                if (s[d] == si && Next32(ref rng, ref bits, ref have) < add) Union(parent, treeSize, i, d);
                if (ghostAdd != 0 && si == fieldSign && Next32(ref rng, ref bits, ref have) < ghostAdd) Union(parent, treeSize, i, ghost);
            }
        }
        var newSpin = _newSpin;
        Array.Clear(newSpin);
        newSpin[Find(parent, ghost)] = fieldSign;
        for (int i = 0; i < total; i++)
        {
            int root = Find(parent, i);
            if (newSpin[root] == 0)
                newSpin[root] = (Next32(ref rng, ref bits, ref have) & 1) == 1 ? (sbyte)1 : (sbyte)-1;
            s[i] = newSpin[root];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Next32(ref SampleRandom rng, ref ulong bits, ref int have)
    {
        if (have == 0) { bits = rng.NextUInt64(); have = 2; }
        uint r = (uint)bits;
        bits >>= 32;
        have--;
        return r;
    }

    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]]; // path halving
            i = parent[i];
        }
        return i;
    }

    /// <summary>Union by size: the smaller tree goes below the larger, so finds stay short.</summary>
    private static void Union(int[] parent, int[] size, int a, int b)
    {
        int ra = Find(parent, a), rb = Find(parent, b);
        if (ra == rb) return;
        if (size[ra] < size[rb]) (ra, rb) = (rb, ra);
        parent[rb] = ra;
        size[ra] += size[rb];
    }

    /// <summary>Sum over the 2N nearest-neighbour bonds of s_i s_j (each bond once: right and down).</summary>
    public int BondSum()
    {
        int n = Size, sum = 0;
        var s = _spins;
        for (int y = 0; y < n; y++)
        {
            int row = y * n, down = (y == n - 1 ? 0 : y + 1) * n;
            for (int x = 0; x < n; x++)
                sum += s[row + x] * (s[row + (x == n - 1 ? 0 : x + 1)] + s[down + x]);
        }
        return sum;
    }

    /// <summary>Sum of the spins.</summary>
    public int Magnetisation()
    {
        int sum = 0;
        foreach (var v in _spins) sum += v;
        return sum;
    }
}
