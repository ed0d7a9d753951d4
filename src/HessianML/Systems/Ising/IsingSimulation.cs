using System.Globalization;
using HessianML.Data;

namespace HessianML.Systems.Ising;

/// <summary>Settings of an Ising dataset: the box of natural parameters, the lattice, the chain length.</summary>
public sealed record IsingSimulationSettings
{
    /// <summary>Default chain length in local (Metropolis) sweeps from a hot start.</summary>
    public const int DefaultSweeps = 100;

    /// <summary>Default: a Swendsen–Wang update (ghost spin) after every 5th local sweep, 20 per default chain.</summary>
    public const int DefaultClusterEvery = 5;

    public int Size { get; init; } = 8;
    public double BetaLo { get; init; } = 0.25;
    public double BetaHi { get; init; } = 0.65;
    public double FieldLo { get; init; } = -0.3;
    public double FieldHi { get; init; } = 0.3;
    public int Samples { get; init; } = 24000;
    public ulong Seed { get; init; } = 1;

    /// <summary>Sweeps per independent chain, from a hot start; the final state is the sample.</summary>
    public int Sweeps { get; init; } = DefaultSweeps;

    /// <summary>
    /// A Swendsen–Wang update follows every this many local sweeps (and ends the chain); 0 = local sweeps only.
    /// WHY: below T_c with a weak field only cluster moves give the sign of the magnetisation its right odds; they
    /// cost ~10x a packed local sweep, so they are interleaved rather than done every sweep.
    /// </summary>
    public int ClusterEvery { get; init; } = DefaultClusterEvery;

    /// <summary>Throws ArgumentException naming the first bad setting.</summary>
    public void Validate()
    {
        if (Size < 2 || Size > 1024)
            throw new ArgumentOutOfRangeException(nameof(Size), $"size {Size} must be in [2, 1024]");
        if (!double.IsFinite(BetaLo) || !double.IsFinite(BetaHi) || BetaLo < 0 || BetaLo > BetaHi)
            throw new ArgumentException($"beta range {BetaLo}:{BetaHi} must be finite with 0 <= LO <= HI");
        if (!double.IsFinite(FieldLo) || !double.IsFinite(FieldHi) || FieldLo > FieldHi)
            throw new ArgumentException($"field range {FieldLo}:{FieldHi} must be finite with LO <= HI");
        if (Samples < 1)
            throw new ArgumentOutOfRangeException(nameof(Samples), $"samples {Samples} must be at least 1");
        if (Sweeps < 0)
            throw new ArgumentOutOfRangeException(nameof(Sweeps), $"sweeps {Sweeps} must be >= 0");
        if (ClusterEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(ClusterEvery), $"cluster-every {ClusterEvery} must be >= 0");
        if ((long)Samples * Size * Size > int.MaxValue)
            throw new ArgumentException($"{Samples} samples of {Size}x{Size} spins exceed one in-memory column (2^31 values)");
    }
}

/// <summary>
/// Builds Ising datasets under the dataset contract: one row per sample, `t` = (beta, h) as Float32[2] drawn
/// uniformly from the box, `state` = the L*L spins as Int8 (-1/+1, row-major), schema metadata naming the sampler.
/// Each sample is an independent chain whose generator is <see cref="SampleRandom.ForStream"/>(seed, index), so the
/// bytes are the same whatever the thread count.
/// </summary>
public static class IsingSimulation
{
    /// <summary>One independent sample: draws t from the box, runs a chain from a hot start, copies the final spins.</summary>
    public static (float Beta, float Field) SampleOne(IsingSimulationSettings settings, long index, IsingSampler sampler,
        Span<sbyte> state)
    {
        var rng = SampleRandom.ForStream(settings.Seed, (ulong)index);
        // The stored t is Float32: simulate at exactly the stored value so data and label agree.
        float beta = (float)rng.Uniform(settings.BetaLo, settings.BetaHi);
        float field = (float)rng.Uniform(settings.FieldLo, settings.FieldHi);
        sampler.SetParameters(Math.Max(0, (double)beta), field);
        sampler.Randomize(ref rng);
        int done = 0;
        while (done < settings.Sweeps)
        {
            int block = settings.ClusterEvery > 0 ? Math.Min(settings.ClusterEvery, settings.Sweeps - done) : settings.Sweeps - done;
            sampler.LocalSweeps(ref rng, block);
            done += block;
            if (settings.ClusterEvery > 0)
                sampler.ClusterSweep(ref rng);
        }
        sampler.Spins.CopyTo(state);
        return (beta, field);
    }

    /// <summary>Generates the dataset in parallel over samples; <paramref name="progress"/> gets finished counts.</summary>
    public static ColumnTable Generate(IsingSimulationSettings settings, IProgress<int>? progress = null,
        int maxThreads = -1, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        int nSpins = settings.Size * settings.Size;
        var t = new float[settings.Samples * 2];
        var states = new sbyte[(long)settings.Samples * nSpins];
        int done = 0;
        Parallel.For(0, settings.Samples,
            new ParallelOptions { MaxDegreeOfParallelism = maxThreads, CancellationToken = cancel },
            () => new IsingSampler(settings.Size),
            (i, _, sampler) =>
            {
                var (beta, field) = SampleOne(settings, i, sampler, states.AsSpan(i * nSpins, nSpins));
                t[2 * i] = beta;
                t[2 * i + 1] = field;
                if (progress is not null)
                    progress.Report(Interlocked.Increment(ref done));
                return sampler;
            },
            _ => { });
        var inv = CultureInfo.InvariantCulture;
        return new ColumnTable.Builder()
            .AddVector("t", 2, t)
            .AddVector("state", nSpins, states)
            .AddMetadata("system", "ising")
            .AddMetadata("size", settings.Size.ToString(inv))
            .AddMetadata("seed", settings.Seed.ToString(inv))
            .AddMetadata("samples", settings.Samples.ToString(inv))
            .AddMetadata("beta", string.Create(inv, $"{settings.BetaLo}:{settings.BetaHi}"))
            .AddMetadata("field", string.Create(inv, $"{settings.FieldLo}:{settings.FieldHi}"))
            .AddMetadata("sampler", PackedMetropolis.Supports(settings.Size)
                ? "metropolis-checkerboard-multispin+swendsen-wang-ghost-spin"
                : "metropolis-typewriter+swendsen-wang-ghost-spin")
            .AddMetadata("sweeps", settings.Sweeps.ToString(inv))
            .AddMetadata("cluster_every", settings.ClusterEvery.ToString(inv))
            .AddMetadata("sweep", "Metropolis sweep = L*L attempts; a Swendsen-Wang update (ghost spin) after every cluster_every sweeps and at the end")
            .AddMetadata("start", "hot (independent uniform spins)")
            .AddMetadata("rng", "xoshiro256** per sample, seeded by SplitMix64(seed, index)")
            .Build();
    }
}
