using System.Globalization;
using HessianML.Data;

namespace HessianML.Systems.Diffusion;

/// <summary>The phase of a generated sample (for the known-score system: <see cref="GaussianMixture.Phase"/>).</summary>
public delegate int PhaseLabeller(ReadOnlySpan<double> sample);

/// <summary>
/// Settings of a known-score diffusion slice dataset: the mixture, the DDIM sampler, the slice and where in it to
/// generate. Either a regular <see cref="Grid"/> x <see cref="Grid"/> of cell centres (the paper's deterministic
/// setting, eta = 0) or <see cref="Samples"/> uniform random points (any eta; the stochastic setting).
/// </summary>
public sealed record DiffusionSliceSettings
{
    /// <summary>Mixture components K. Default 4.</summary>
    public int Components { get; init; } = 4;

    /// <summary>Dimension d = 3 H W of the colour-pattern mixture. Default 192 (8 x 8 RGB).</summary>
    public int Dimension { get; init; } = 192;

    /// <summary>Component standard deviation s. Default 0.1 (see <see cref="GaussianMixtureOptions.Std"/>).</summary>
    public double Std { get; init; } = 0.1;

    /// <summary>DDIM steps. Default 50 (the paper's).</summary>
    public int DdimSteps { get; init; } = 50;

    /// <summary>DDIM eta in [0, 1]. Default 0 (deterministic).</summary>
    public double Eta { get; init; }

    /// <summary>Eta convention (only matters for eta &gt; 0). Default DDIM's own (consistent); see <see cref="Diffusion.EtaConvention"/>.</summary>
    public EtaConvention EtaConvention { get; init; } = EtaConvention.DdimPaper;

    /// <summary>Cells per side G of the grid of cell centres; 0 when <see cref="Samples"/> random points are asked for. Default 32.</summary>
    public int Grid { get; init; } = 32;

    /// <summary>Number of uniform random points in [0, 1]^2; 0 (default) for the grid.</summary>
    public int Samples { get; init; }

    /// <summary>
    /// Seed of everything: the slice's three latents, the random points and the sampler's noise, each from its own
    /// derived stream family; row i's point and noise use stream i, so the data do not depend on the thread count.
    /// </summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Whether the slice's corners are chosen to generate three different phases (<see cref="LatentSlice.ThroughDistinctPhases"/>).
    /// Default true: WHY: three random latents often land in one or two phases (seed 1 of the default mixture: two), so
    /// the square shows few boundaries; the paper's slices go through three pictures of different things. False: three
    /// plain random latents (<see cref="LatentSlice.Random"/>).
    /// </summary>
    public bool DistinctCornerPhases { get; init; } = true;

    /// <summary>Largest G accepted (G^2 rows).</summary>
    public const int MaxGrid = 4096;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad setting and its value.</summary>
    public void Validate()
    {
        MixtureOptions().Validate();
        if (DdimSteps < 1 || DdimSteps > VpSchedule.Default.TrainSteps)
            throw new ArgumentOutOfRangeException(nameof(DdimSteps), $"DDIM steps {DdimSteps} must be in [1, {VpSchedule.Default.TrainSteps}]");
        if (!(Eta >= 0 && Eta <= 1))
            throw new ArgumentOutOfRangeException(nameof(Eta), string.Create(CultureInfo.InvariantCulture, $"DDIM eta {Eta} must be in [0, 1]"));
        if (Grid < 0 || Grid > MaxGrid)
            throw new ArgumentOutOfRangeException(nameof(Grid), $"grid {Grid} must be in [0, {MaxGrid}]");
        if (Samples < 0)
            throw new ArgumentOutOfRangeException(nameof(Samples), $"samples {Samples} must be >= 0");
        if ((Grid > 0) == (Samples > 0))
            throw new ArgumentException($"give exactly one of grid ({Grid}) and samples ({Samples}): a grid of cell centres or random points");
        long rows = Grid > 0 ? (long)Grid * Grid : Samples;
        if (rows * Dimension > int.MaxValue)
            throw new ArgumentException($"{rows} rows of dimension {Dimension} exceed one in-memory column (2^31 values)");
    }

    /// <summary>The colour-pattern mixture these settings describe.</summary>
    public GaussianMixtureOptions MixtureOptions() => new() { Components = Components, Dimension = Dimension, Std = Std };
}

/// <summary>
/// Latent-slice datasets of a generator (METHOD §6, paper section 4.2): one row per point (a, b) of the slice, with
/// `t` = (a, b) as Float32[2], `features` = the generated sample as Float32[d] (pixel space: what the feature-distance
/// posterior reads as f(x)), and `phase` = its phase as Int32; schema metadata names the system and its settings.
/// Generation is parallel over rows; row i uses noise stream i (and point stream i), so the bytes are the same
/// whatever the thread count.
/// </summary>
public static class DiffusionSliceDataset
{
    /// <summary>The mixture, generator and slice that <paramref name="settings"/> describe.</summary>
    public static (GaussianMixture Mixture, KnownScoreDiffusionGenerator Generator, LatentSlice Slice) CreateSystem(DiffusionSliceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var mixture = new GaussianMixture(settings.MixtureOptions());
        var generator = new KnownScoreDiffusionGenerator(new KnownScoreDiffusionOptions
        {
            Mixture = mixture, DdimSteps = settings.DdimSteps, Eta = settings.Eta, EtaConvention = settings.EtaConvention,
            Seed = settings.Seed,
        });
        var slice = settings.DistinctCornerPhases
            ? LatentSlice.ThroughDistinctPhases(generator, mixture.Phase, settings.Seed, out _)
            : LatentSlice.Random(settings.Dimension, settings.Seed);
        return (mixture, generator, slice);
    }

    /// <summary>The G x G cell centres of [0, 1]^2, row r = iy * G + ix at ((ix + 1/2) / G, (iy + 1/2) / G).</summary>
    public static (double A, double B)[] GridPoints(int grid) => GridPoints(grid, 0, 1, 0, 1);

    /// <summary>The G x G cell centres of [aLo, aHi] x [bLo, bHi], row r = iy * G + ix.</summary>
    public static (double A, double B)[] GridPoints(int grid, double aLo, double aHi, double bLo, double bHi)
    {
        if (grid < 1) throw new ArgumentOutOfRangeException(nameof(grid), $"grid {grid} must be at least 1");
        if (!(aHi > aLo) || !(bHi > bLo) || !double.IsFinite(aHi - aLo) || !double.IsFinite(bHi - bLo))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"box [{aLo}, {aHi}] x [{bLo}, {bHi}] must be finite and non-empty"));
        var p = new (double, double)[grid * grid];
        for (int iy = 0; iy < grid; iy++)
        for (int ix = 0; ix < grid; ix++)
            p[iy * grid + ix] = (aLo + (aHi - aLo) * (ix + 0.5) / grid, bLo + (bHi - bLo) * (iy + 0.5) / grid);
        return p;
    }

    /// <summary>N uniform points of [0, 1]^2, point i from stream i of a seed derived from <paramref name="seed"/>.</summary>
    public static (double A, double B)[] RandomPoints(int count, ulong seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"point count {count} must be >= 0");
        ulong s = Gaussian.Derive(seed, 0x706F696E7473UL); // "points"
        var p = new (double, double)[count];
        for (int i = 0; i < count; i++)
        {
            var rng = SampleRandom.ForStream(s, (ulong)i);
            double a = rng.NextDouble();
            p[i] = (a, rng.NextDouble());
        }
        return p;
    }

    /// <summary>
    /// Generates at the given points: samples (N x d, double) and phases. The point is rounded to Float32 first, so the
    /// stored `t` is exactly the point the sample was generated at.
    /// </summary>
    public static (float[] T, double[] Samples, int[] Phases) GenerateAt(IGenerator generator, LatentSlice slice,
        PhaseLabeller? phaseOf, IReadOnlyList<(double A, double B)> points, IProgress<int>? progress = null,
        int maxThreads = -1, CancellationToken cancel = default, bool roundToFloat = true)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(slice);
        ArgumentNullException.ThrowIfNull(points);
        if (slice.Dimension != generator.LatentDimension)
            throw new ArgumentException($"slice dimension {slice.Dimension} differs from the generator's latent dimension {generator.LatentDimension}");
        int n = points.Count, dOut = generator.OutputDimension;
        var t = new float[2 * n];
        var samples = new double[(long)n * dOut];
        var phases = new int[n];
        int done = 0;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = maxThreads, CancellationToken = cancel },
            () => new double[slice.Dimension],
            (i, _, z) =>
            {
                var (a, b) = points[i];
                if (roundToFloat) { a = (float)a; b = (float)b; }
                t[2 * i] = (float)a;
                t[2 * i + 1] = (float)b;
                slice.Latent(a, b, z);
                var x = samples.AsSpan((int)((long)i * dOut), dOut);
                generator.Generate(z, x, (ulong)i);
                phases[i] = phaseOf?.Invoke(x) ?? 0;
                if (progress is not null) progress.Report(Interlocked.Increment(ref done));
                return z;
            },
            _ => { });
        return (t, samples, phases);
    }

    /// <summary>
    /// The phase of every cell centre of a G x G grid over [aLo, aHi] x [bLo, bHi] (default the unit square), flat,
    /// index iy * G + ix. Samples are generated with noise stream = cell index (a deterministic generator ignores it).
    /// </summary>
    public static int[] PhaseMap(IGenerator generator, LatentSlice slice, PhaseLabeller phaseOf, int grid,
        double aLo = 0, double aHi = 1, double bLo = 0, double bHi = 1, int maxThreads = -1)
    {
        ArgumentNullException.ThrowIfNull(phaseOf);
        return GenerateAt(generator, slice, phaseOf, GridPoints(grid, aLo, aHi, bLo, bHi), maxThreads: maxThreads, roundToFloat: false).Phases;
    }

    /// <summary>The dataset <paramref name="settings"/> describe, under the dataset contract (see the class summary).</summary>
    public static ColumnTable Generate(DiffusionSliceSettings settings, IProgress<int>? progress = null, int maxThreads = -1,
        CancellationToken cancel = default)
    {
        var (mixture, generator, slice) = CreateSystem(settings);
        var points = settings.Grid > 0 ? GridPoints(settings.Grid) : RandomPoints(settings.Samples, settings.Seed);
        var (t, samples, phases) = GenerateAt(generator, slice, mixture.Phase, points, progress, maxThreads, cancel);
        var features = new float[samples.Length];
        for (int i = 0; i < samples.Length; i++) features[i] = (float)samples[i];
        var inv = CultureInfo.InvariantCulture;
        var (h, w) = GaussianMixture.ImageShape(settings.Dimension);
        return new ColumnTable.Builder()
            .AddVector("t", 2, t)
            .AddVector("features", settings.Dimension, features)
            .AddScalar("phase", phases)
            .AddMetadata("system", "diffusion")
            .AddMetadata("components", settings.Components.ToString(inv))
            .AddMetadata("dim", settings.Dimension.ToString(inv))
            .AddMetadata("image", string.Create(inv, $"{h}x{w}x3 (H x W x RGB, row-major, values in [-1, 1])"))
            .AddMetadata("std", settings.Std.ToString("R", inv))
            .AddMetadata("eta", settings.Eta.ToString("R", inv))
            .AddMetadata("eta_convention", settings.EtaConvention == EtaConvention.Method ? "method" : "ddim-paper")
            .AddMetadata("steps", settings.DdimSteps.ToString(inv))
            .AddMetadata("seed", settings.Seed.ToString(inv))
            .AddMetadata(settings.Grid > 0 ? "grid" : "samples", (settings.Grid > 0 ? settings.Grid : settings.Samples).ToString(inv))
            .AddMetadata("t_names", "a,b")
            .AddMetadata("slice", "z(a,b) = z0 + a (z1 - z0) + b (z2 - z0), divided by its own standard deviation (d - 1 denominator); z0, z1, z2 ~ N(0, I) from the seed"
                + (settings.DistinctCornerPhases ? ", the first candidates whose samples are of three different phases" : ""))
            .AddMetadata("points", settings.Grid > 0 ? "G x G cell centres of [0,1]^2, row = iy * G + ix" : "uniform in [0,1]^2, point i from stream i")
            .AddMetadata("mixture", "sum_k w_k N(mu_k, s^2 I), equal weights, mu_k = colour pattern k (GaussianMixture.PatternMean)")
            .AddMetadata("sampler", "DDIM with the exact mixture score, linear VP schedule 1000 steps beta 1e-4..0.02, timesteps (S-1)r..r,0 with r = 1000/S, abar_prev = 1 at the end; eta per eta_convention")
            .AddMetadata("phase", "index of the component with the highest responsibility at t = 0")
            .AddMetadata("rng", "xoshiro256** per row, seeded by SplitMix64(derived seed, row index)")
            .Build();
    }
}
