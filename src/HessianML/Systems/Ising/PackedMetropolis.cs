using System.Numerics;
using System.Runtime.CompilerServices;

namespace HessianML.Systems.Ising;

/// <summary>
/// Multi-spin-coded checkerboard Metropolis for L x L tori with L a multiple of 128: 64 spins per ulong (bit 1 = +1).
/// <para>
/// Layout: row y has W = L/64 words; bit k of word j holds column j + k W. With W even every bit of a word has the
/// same checkerboard colour ((y + j) mod 2), its left/right neighbours are words j -/+ 1 bit for bit (at the row ends
/// the far word rotated by one bit), and its up/down neighbours are word j of rows y -/+ 1. So one colour's words are
/// updated with a handful of bitwise operations for 64 spins at once.
/// </para>
/// <para>
/// Exact acceptance, no shared random numbers: the number a of anti-aligned neighbours (0..4) and the spin s select
/// one of 10 classes with acceptance P(a, s) = min(1, exp(-2 beta (4 - 2a) - 2 h s)). Each lane draws its own uniform
/// r bit by bit (most significant first, one random word gives the next bit of all 64 lanes) and compares it with its
/// class's 64-bit threshold; a lane stops as soon as its bits differ, so on average about log2(64) + 2 random words
/// serve 64 lanes, and the comparison is exact up to 2^-64.
/// </para>
/// </summary>
public sealed class PackedMetropolis
{
    private readonly ulong[] _words;
    private readonly int _w;
    private ulong[] _thresholds = [];   // per active class (P < 1): 64-bit fixed-point P
    private int[] _classIndex = [];     // per active class: a * 2 + (s == +1 ? 1 : 0)
    private bool[] _always = new bool[10];

    public PackedMetropolis(int size)
    {
        if (size < 128 || size % 128 != 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"packed sampler needs L a multiple of 128, got {size}");
        Size = size;
        _w = size / 64;
        _words = new ulong[size * _w];
        SetParameters(0, 0);
    }

    public int Size { get; }

    /// <summary>True when the packed sampler applies to this lattice size.</summary>
    public static bool Supports(int size) => size >= 128 && size % 128 == 0;

    public void SetParameters(double beta, double field)
    {
        var thresholds = new List<ulong>();
        var classes = new List<int>();
        for (int a = 0; a <= 4; a++)
            for (int up = 0; up < 2; up++)
            {
                int s = up == 1 ? 1 : -1;
                double p = Math.Exp(-2 * beta * (4 - 2 * a) - 2 * field * s);
                int c = a * 2 + up;
                _always[c] = p >= 1;
                if (p < 1)
                {
                    thresholds.Add((ulong)Math.Min(p * 18446744073709551616.0, 18446744073709549568.0));
                    classes.Add(c);
                }
            }
        _thresholds = thresholds.ToArray();
        _classIndex = classes.ToArray();
    }

    /// <summary>Packs an sbyte lattice (row-major, -1/+1).</summary>
    public void Load(ReadOnlySpan<sbyte> spins)
    {
        int l = Size, w = _w;
        for (int y = 0; y < l; y++)
            for (int j = 0; j < w; j++)
            {
                ulong word = 0;
                for (int k = 0, x = j + (l - w); k < 64; k++, x -= w)
                    word = (word << 1) | (spins[y * l + x] > 0 ? 1UL : 0UL); // column j + (63 - k') w, MSB first
                _words[y * w + j] = word;
            }
    }

    /// <summary>Unpacks into an sbyte lattice (row-major, -1/+1).</summary>
    public void Store(Span<sbyte> spins)
    {
        int l = Size, w = _w;
        for (int y = 0; y < l; y++)
            for (int j = 0; j < w; j++)
            {
                ulong word = _words[y * w + j];
                for (int k = 0, x = j; k < 64; k++, x += w, word >>= 1)
                    spins[y * l + x] = (sbyte)((int)(word & 1) * 2 - 1);
            }
    }

    /// <summary>One checkerboard sweep: every spin gets one Metropolis attempt (colour 0, then colour 1).</summary>
    [SkipLocalsInit]
    public void Sweep(ref SampleRandom rng)
    {
        var local = rng;
        for (int colour = 0; colour < 2; colour++)
            HalfSweep(colour, ref local);
        rng = local;
    }

    private void HalfSweep(int colour, ref SampleRandom rng)
    {
        int l = Size, w = _w;
        var words = _words;
        var always = _always;
        ulong[] thr = _thresholds;
        int[] cls = _classIndex;
        int active = thr.Length;
        Span<ulong> classMask = stackalloc ulong[10];
        for (int y = 0; y < l; y++)
        {
            int row = y * w;
            int up = (y == 0 ? l - 1 : y - 1) * w;
            int down = (y == l - 1 ? 0 : y + 1) * w;
            for (int j = (y + colour) & 1; j < w; j += 2)
            {
                ulong s = words[row + j];
                ulong left = j == 0 ? ulong.RotateLeft(words[row + w - 1], 1) : words[row + j - 1];
                ulong right = j == w - 1 ? ulong.RotateRight(words[row], 1) : words[row + j + 1];
                ulong x1 = s ^ left, x2 = s ^ right, x3 = s ^ words[up + j], x4 = s ^ words[down + j];
                // One-hot counts of anti-aligned neighbours from two pair sums.
                ulong p0 = ~(x1 | x2), p1 = x1 ^ x2, p2 = x1 & x2;
                ulong q0 = ~(x3 | x4), q1 = x3 ^ x4, q2 = x3 & x4;
                ulong a0 = p0 & q0, a1 = (p0 & q1) | (p1 & q0), a2 = (p0 & q2) | (p1 & q1) | (p2 & q0);
                ulong a3 = (p1 & q2) | (p2 & q1), a4 = p2 & q2;
                ulong notS = ~s;
                classMask[0] = a0 & notS; classMask[1] = a0 & s;
                classMask[2] = a1 & notS; classMask[3] = a1 & s;
                classMask[4] = a2 & notS; classMask[5] = a2 & s;
                classMask[6] = a3 & notS; classMask[7] = a3 & s;
                classMask[8] = a4 & notS; classMask[9] = a4 & s;
                ulong accept = 0;
                for (int c = 0; c < 10; c++)
                    if (always[c]) accept |= classMask[c];
                ulong undecided = ~accept;
                for (int bit = 63; bit >= 0 && undecided != 0; bit--)
                {
                    ulong t = 0;
                    for (int k = 0; k < active; k++)
                        if (((thr[k] >> bit) & 1) != 0) t |= classMask[cls[k]];
                    ulong r = rng.NextUInt64();
                    accept |= undecided & ~r & t;      // r bit 0 < threshold bit 1: r < P decided
                    undecided &= ~(r ^ t);              // bits differ: decided either way
                }
                words[row + j] = s ^ accept;
            }
        }
    }

    /// <summary>Sum of the spins.</summary>
    public long Magnetisation()
    {
        long up = 0;
        foreach (var v in _words) up += BitOperations.PopCount(v);
        return 2 * up - (long)Size * Size;
    }
}
