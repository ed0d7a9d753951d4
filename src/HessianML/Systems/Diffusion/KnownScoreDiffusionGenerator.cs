using System.Globalization;

namespace HessianML.Systems.Diffusion;

/// <summary>How DDIM's eta sets the variance sigma_t^2 of the fresh noise of a step.</summary>
public enum EtaConvention
{
    /// <summary>
    /// METHOD §6's form: x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev) (eta z + sqrt(1 - eta^2) eps_hat), i.e.
    /// sigma_t = eta sqrt(1 - abar_prev). NOT consistent for eta &gt; 0: sigma does not shrink with the step, and each
    /// step replaces x0 by its posterior mean, so the sample's spread within a mode is lost (measured: variance of a
    /// single Gaussian N(mu, 0.8^2) comes out 51% low at eta = 1, 7.5% low at eta = 0.5, with 1000 steps as with 50).
    /// </summary>
    Method,

    /// <summary>
    /// The DDIM paper's (Song et al. 2021, eq. 16; diffusers' DDIMScheduler):
    /// sigma_t = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev), direction coefficient
    /// sqrt(1 - abar_prev - sigma_t^2). Consistent: the law's error vanishes as the steps shrink (eta = 1 is DDPM).
    /// </summary>
    DdimPaper,
}

/// <summary>Options of <see cref="KnownScoreDiffusionGenerator"/>.</summary>
public sealed record KnownScoreDiffusionOptions
{
    /// <summary>The data law whose exact score drives the sampler. Required.</summary>
    public GaussianMixture? Mixture { get; init; }

    /// <summary>DDIM sampling steps S. Default 50, the paper's setting (section 4.2).</summary>
    public int DdimSteps { get; init; } = 50;

    /// <summary>
    /// DDIM eta in [0, 1]. Default 0: the deterministic sampler of the paper's main experiments (latent -> sample is a
    /// function). eta &gt; 0 mixes fresh noise in (see <see cref="EtaConvention"/>).
    /// </summary>
    public double Eta { get; init; }

    /// <summary>
    /// Which eta convention. Default <see cref="EtaConvention.DdimPaper"/>, DDIM's own (and diffusers' DDIMScheduler's,
    /// which Stable Diffusion pipelines run): WHY not METHOD §6's formula (<see cref="EtaConvention.Method"/>, kept for
    /// comparison): it does not sample the model's law for eta &gt; 0 however many steps (tests measure 51% too little
    /// variance at eta = 1), so a stochastic slice would not be samples of the generator. Irrelevant at eta = 0, where
    /// both are DDIM's ODE step.
    /// </summary>
    public EtaConvention EtaConvention { get; init; } = EtaConvention.DdimPaper;

    /// <summary>Seed of the sampler's noise (used only when eta &gt; 0). Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The noise schedule. Default <see cref="VpSchedule.Default"/> (1000 steps, beta 1e-4 .. 0.02).</summary>
    public VpSchedule Schedule { get; init; } = VpSchedule.Default;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option and its value.</summary>
    public void Validate()
    {
        if (Mixture is null)
            throw new ArgumentException("the known-score diffusion needs a Mixture (the data law)", nameof(Mixture));
        if (Schedule is null)
            throw new ArgumentException("the known-score diffusion needs a Schedule", nameof(Schedule));
        if (DdimSteps < 1 || DdimSteps > Schedule.TrainSteps)
            throw new ArgumentOutOfRangeException(nameof(DdimSteps), $"DDIM steps {DdimSteps} must be in [1, {Schedule.TrainSteps}]");
        if (!(Eta >= 0 && Eta <= 1))
            throw new ArgumentOutOfRangeException(nameof(Eta), string.Create(CultureInfo.InvariantCulture, $"DDIM eta {Eta} must be in [0, 1]"));
        if (!Enum.IsDefined(EtaConvention))
            throw new ArgumentOutOfRangeException(nameof(EtaConvention), $"eta convention {(int)EtaConvention} is not one of {string.Join(", ", Enum.GetNames<EtaConvention>())}");
    }
}

/// <summary>
/// DDIM sampling with the exact score of a Gaussian mixture (METHOD §6): latent x_T ~ N(0, I) in R^d -> sample in R^d.
/// With eps_hat(x, t) = -sqrt(1 - abar_t) score_t(x), each step is
/// <code>
/// x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)
/// x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev) (eta z + sqrt(1 - eta^2) eps_hat),   z ~ N(0, I)
/// </code>
/// over the timesteps of <see cref="VpSchedule.DdimSteps"/> (abar_prev = 1 after the last).
/// </summary>
/// <remarks>
/// With <see cref="EtaConvention.Method"/> (the default), the eta term is METHOD's (the released generate_grid.py's) form, followed exactly: eta scales the noise directly,
/// i.e. the DDIM family member with sigma_t = eta sqrt(1 - abar_prev). It is NOT the DDIM paper's
/// sigma_t = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev), which vanishes as steps shrink:
/// METHOD's sigma does not, so at eta = 1 each step re-noises x0_hat from scratch. Both keep the forward marginals
/// when x0_hat is exact; with the posterior mean for x0_hat only the vanishing sigma is consistent, and METHOD's loses
/// the spread within a mode (see <see cref="EtaConvention.Method"/> for the measured numbers). eta = 0 is the same
/// ODE step in both, and is what the paper's main experiments use.
/// The noise of a call is drawn from <see cref="SampleRandom.ForStream"/>(seed, noiseStream) in step order, so a
/// sample depends only on (latent, noiseStream), not on threads.
/// </remarks>
public sealed class KnownScoreDiffusionGenerator : IGenerator
{
    private readonly (double Abar, double AbarPrev)[] _steps;
    private readonly ulong _noiseSeed;

    public KnownScoreDiffusionOptions Options { get; }

    public GaussianMixture Mixture { get; }

    public int LatentDimension => Mixture.Dimension;

    public int OutputDimension => Mixture.Dimension;

    public bool IsDeterministic => Options.Eta == 0;

    public KnownScoreDiffusionGenerator(KnownScoreDiffusionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Mixture = options.Mixture!;
        _steps = options.Schedule.DdimSteps(options.DdimSteps);
        _noiseSeed = Gaussian.Derive(options.Seed, 0x6E6F697365UL); // "noise"
    }

    /// <summary>The (abar_t, abar_prev) of each sampling step, in order.</summary>
    public IReadOnlyList<(double Abar, double AbarPrev)> Steps => _steps;

    public void Generate(ReadOnlySpan<double> latent, Span<double> output, ulong noiseStream)
    {
        int d = Mixture.Dimension;
        if (latent.Length != d)
            throw new ArgumentException($"latent has {latent.Length} entries; the generator's latent dimension is {d}");
        if (output.Length != d)
            throw new ArgumentException($"output buffer has {output.Length} entries; the generator's output dimension is {d}");
        double eta = Options.Eta;
        bool paper = Options.EtaConvention == EtaConvention.DdimPaper;
        var buffer = new double[2 * d];
        var score = buffer.AsSpan(0, d);
        var z = buffer.AsSpan(d, d);
        var rng = SampleRandom.ForStream(_noiseSeed, noiseStream);
        var x = output;
        latent.CopyTo(x);
        foreach (var (a, ap) in _steps)
        {
            Mixture.DiffusedScore(x, a, score);
            double sa = Math.Sqrt(a), s1a = Math.Sqrt(1 - a);
            double sap = Math.Sqrt(ap);
            // x_prev = sqrt(abar_prev) x0_hat + c_eps eps_hat + sigma z; the two conventions differ only in sigma.
            double sigma = paper
                ? eta * Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(Math.Max(0, 1 - a / ap))
                : eta * Math.Sqrt(1 - ap);
            double cEps = paper ? Math.Sqrt(Math.Max(0, 1 - ap - sigma * sigma)) : Math.Sqrt(1 - ap) * Math.Sqrt(1 - eta * eta);
            bool noisy = sigma > 0;
            if (noisy) Gaussian.Fill(ref rng, z);
            for (int i = 0; i < d; i++)
            {
                double eps = -s1a * score[i];
                double x0 = (x[i] - s1a * eps) / sa;
                x[i] = sap * x0 + cEps * eps + (noisy ? sigma * z[i] : 0);
            }
        }
    }

    /// <summary>Convenience: the sample of one latent as a new array.</summary>
    public double[] Generate(ReadOnlySpan<double> latent, ulong noiseStream = 0)
    {
        var output = new double[OutputDimension];
        Generate(latent, output, noiseStream);
        return output;
    }
}
