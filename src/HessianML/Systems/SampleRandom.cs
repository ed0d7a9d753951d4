using System.Runtime.CompilerServices;

namespace HessianML.Systems;

/// <summary>
/// A small fast generator for simulations: xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
/// WHY a struct with per-sample streams: every dataset sample gets its own generator derived from
/// (seed, sample index) by <see cref="ForStream"/>, so the output is identical whatever the thread count and
/// whatever order Parallel.For visits the samples in. Not for cryptography.
/// </summary>
public struct SampleRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Seeds the four words from one 64-bit value with SplitMix64 (never all zero).</summary>
    public SampleRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
            _s0 = 1;
    }

    /// <summary>
    /// The generator of stream <paramref name="index"/> under <paramref name="seed"/>: the pair is mixed through two
    /// SplitMix64 finalisers so neighbouring indices (and seeds) give unrelated streams.
    /// </summary>
    public static SampleRandom ForStream(ulong seed, ulong index)
    {
        ulong x = seed;
        ulong a = SplitMix64(ref x);
        ulong y = a ^ (index * 0xD1B54A32D192ED03UL + 0x8CB92BA72F3D8DD7UL);
        return new SampleRandom(SplitMix64(ref y));
    }

    /// <summary>One SplitMix64 step (Steele, Lea, Flood 2014): advances the state and returns a mixed word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for n below 2^32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)(uint)n) >> 32);

    /// <summary>Uniform on [lo, hi]; exactly lo when lo = hi (a fixed parameter).</summary>
    public double Uniform(double lo, double hi) => lo == hi ? lo : lo + (hi - lo) * NextDouble();
}
