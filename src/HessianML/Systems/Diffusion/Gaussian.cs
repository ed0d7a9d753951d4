namespace HessianML.Systems.Diffusion;

/// <summary>
/// Standard normal draws from a <see cref="SampleRandom"/> stream (Box–Muller, both values of each pair used).
/// WHY here and not on <see cref="SampleRandom"/>: the pair is consumed inside one <see cref="Fill"/> call, so no
/// spare value has to live in the generator struct and a stream's draws depend only on the calls made on it.
/// </summary>
internal static class Gaussian
{
    /// <summary>Fills <paramref name="z"/> with independent N(0, 1) draws.</summary>
    public static void Fill(ref SampleRandom rng, Span<double> z)
    {
        int i = 0;
        for (; i + 1 < z.Length; i += 2)
        {
            var (a, b) = Pair(ref rng);
            z[i] = a;
            z[i + 1] = b;
        }
        if (i < z.Length)
            z[i] = Pair(ref rng).A;
    }

    private static (double A, double B) Pair(ref SampleRandom rng)
    {
        double u1 = 1.0 - rng.NextDouble(); // (0, 1]: log is finite
        double u2 = rng.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        return (r * cos, r * sin);
    }

    /// <summary>
    /// A seed for one purpose (latents, noise, points) derived from the user's seed, so the streams of different
    /// purposes never coincide: ForStream(seed, i) for the noise of row i must not also be the point draw of row i.
    /// </summary>
    public static ulong Derive(ulong seed, ulong purpose)
    {
        ulong x = seed ^ (purpose * 0xA0761D6478BD642FUL);
        return SampleRandom.SplitMix64(ref x);
    }
}
