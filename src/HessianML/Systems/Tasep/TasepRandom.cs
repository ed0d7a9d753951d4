using System.Numerics;
using System.Runtime.CompilerServices;

namespace HessianML.Systems.Tasep;

/// <summary>
/// xoshiro256** (Blackman &amp; Vigna 2018): a small, fast generator with 256 bits of state, seeded by SplitMix64.
/// Each sample gets its own stream from (seed, sample index) via <see cref="ForStream"/>, so a data set is the same
/// whatever the thread count or the order in which Parallel.For visits the samples.
/// </summary>
public struct TasepRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator seeded from one 64-bit value through SplitMix64 (never the all-zero state).</summary>
    public TasepRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    /// <summary>
    /// The stream for sample <paramref name="index"/> of a run seeded with <paramref name="seed"/>. WHY the double
    /// hash: (seed, index) pairs that differ in one bit must give unrelated streams, and nearby seeds must not give
    /// shifted copies of each other's streams (as seed + index would).
    /// </summary>
    public static TasepRandom ForStream(ulong seed, long index)
    {
        ulong x = seed;
        ulong a = SplitMix64(ref x);
        ulong y = a ^ ((ulong)index * 0xD1B54A32D192ED03UL);
        return new TasepRandom(SplitMix64(ref y) ^ (ulong)index);
    }

    /// <summary>One SplitMix64 step: advances <paramref name="x"/> and returns the mixed value.</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
