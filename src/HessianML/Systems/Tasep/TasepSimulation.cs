using System.Globalization;
using HessianML.Data;

namespace HessianML.Systems.Tasep;

/// <summary>What to simulate: lattice, parameter box (LO = HI on an axis fixes it), sample count and seed.</summary>
public sealed record TasepSimulationSettings(
    int Size, double AlphaLo, double AlphaHi, double BetaLo, double BetaHi, int Samples, ulong Seed)
{
    /// <summary>Largest lattice the sampler accepts (its table has L^2/2 entries per thread).</summary>
    public const int MaxSize = 2000;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Size < 1 || Size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(Size), $"TASEP size {Size} must be in [1, {MaxSize}]");
        if (Samples < 1 || Samples > int.MaxValue / 2)
            throw new ArgumentOutOfRangeException(nameof(Samples), $"sample count {Samples} must be in [1, {int.MaxValue / 2}]");
        if ((long)Samples * Size > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Samples), $"{Samples} samples of {Size} sites exceed one column's 2^31 entries");
        CheckRange("alpha", AlphaLo, AlphaHi);
        CheckRange("beta", BetaLo, BetaHi);
    }

    private static void CheckRange(string name, double lo, double hi)
    {
        if (!(lo > 0 && hi <= 1 && lo <= hi))
            throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture,
                $"TASEP {name} range {lo}:{hi} must lie in (0, 1] with LO <= HI"));
    }
}

/// <summary>
/// Exact i.i.d. samples of the open TASEP stationary state, each at its own (alpha, beta) drawn uniformly from the
/// box, by sequential sampling from the matrix-product measure (<see cref="TasepMatrixProduct"/>). WHY not a Monte
/// Carlo chain: near alpha = beta &lt; 1/2 a random-sequential chain needs O(L^2) sweeps for the diffusing shock to
/// equilibrate and can only be checked approximately; the sequential sampler has no burn-in and no bias. Sample i
/// uses the RNG stream (seed, i), so the data set does not depend on the thread count.
/// </summary>
public static class TasepSimulation
{
    /// <summary>Draws the samples: t is samples x 2 (alpha, beta) Float32, states samples x L (0/1).</summary>
    public static (float[] T, sbyte[] States) Sample(TasepSimulationSettings settings, IProgress<int>? progress = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        int n = settings.Size, count = settings.Samples;
        var t = new float[2 * count];
        var states = new sbyte[(long)count * n];
        int done = 0;
        var options = new ParallelOptions { CancellationToken = cancel };
        // Chunks of samples per task, so each thread builds its table once per chunk, not per sample.
        const int chunk = 64;
        int chunks = (count + chunk - 1) / chunk;
        Parallel.For(0, chunks, options, () => (TasepMatrixProduct?)null, (c, _, table) =>
        {
            int end = Math.Min(count, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i++)
            {
                var rng = SampleRandom.ForStream(settings.Seed, (ulong)i);
                // The parameters are drawn in double and rounded to float: the stored t is the exact value the
                // configuration was sampled at, so a reader sees precisely the law it came from.
                float alpha = (float)Draw(ref rng, settings.AlphaLo, settings.AlphaHi);
                float beta = (float)Draw(ref rng, settings.BetaLo, settings.BetaHi);
                t[2 * i] = alpha;
                t[2 * i + 1] = beta;
                if (table is null) table = new TasepMatrixProduct(n, alpha, beta);
                else table.Reset(alpha, beta);
                table.Sample(ref rng, states.AsSpan(i * n, n));
            }
            int now = Interlocked.Add(ref done, end - c * chunk);
            progress?.Report(now);
            return table;
        }, _ => { });
        return (t, states);
    }

    /// <summary>The samples as the dataset contract: `t` (Float32 x 2) and `state` (Int8 x L) with metadata.</summary>
    public static ColumnTable Generate(TasepSimulationSettings settings, IProgress<int>? progress = null,
        CancellationToken cancel = default)
    {
        var (t, states) = Sample(settings, progress, cancel);
        var inv = CultureInfo.InvariantCulture;
        return new ColumnTable.Builder()
            .AddVector("t", 2, t)
            .AddVector("state", settings.Size, states)
            .AddMetadata("system", "tasep")
            .AddMetadata("size", settings.Size.ToString(inv))
            .AddMetadata("seed", settings.Seed.ToString(inv))
            .AddMetadata("samples", settings.Samples.ToString(inv))
            .AddMetadata("t_names", "alpha,beta")
            .AddMetadata("alpha", string.Create(inv, $"{settings.AlphaLo}:{settings.AlphaHi}"))
            .AddMetadata("beta", string.Create(inv, $"{settings.BetaLo}:{settings.BetaHi}"))
            .AddMetadata("sampler", "exact sequential sampling from the DEHP matrix-product measure (normal-ordered algebra); i.i.d., no burn-in")
            .AddMetadata("rng", "xoshiro256** per sample, seeded by SplitMix64(seed, sample index)")
            .Build();
    }

    /// <summary>Uniform on [lo, hi]; a point when lo = hi (no draw is wasted either way: two draws per sample).</summary>
    private static double Draw(ref SampleRandom rng, double lo, double hi)
    {
        double u = rng.NextDouble();
        return lo == hi ? lo : lo + (hi - lo) * u;
    }
}
