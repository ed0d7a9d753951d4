using System.Globalization;

namespace HessianML.Systems.Diffusion;

/// <summary>
/// The variance-preserving noise schedule of DDPM (Ho et al. 2020): beta_t linear from <see cref="BetaStart"/> to
/// <see cref="BetaEnd"/> over <see cref="TrainSteps"/> steps, abar_t = prod_{i &lt;= t} (1 - beta_i), so
/// x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps. Defaults are the standard 1000 steps, 1e-4 .. 0.02.
/// </summary>
/// <remarks>
/// Stable Diffusion 1.5 (the paper's model) uses the "scaled linear" schedule (linear in sqrt(beta), 0.00085 ..
/// 0.012); the known-score system follows METHOD §6 and the DDPM/DDIM papers with the plain linear one.
/// </remarks>
public sealed class VpSchedule
{
    private readonly double[] _abar;

    /// <summary>Training steps N (timesteps 0 .. N-1).</summary>
    public int TrainSteps { get; }

    public double BetaStart { get; }

    public double BetaEnd { get; }

    /// <summary>The standard schedule: 1000 steps, beta 1e-4 .. 0.02.</summary>
    public static VpSchedule Default { get; } = new();

    public VpSchedule(int trainSteps = 1000, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        var inv = CultureInfo.InvariantCulture;
        if (trainSteps < 2 || trainSteps > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(trainSteps), $"schedule train steps {trainSteps} must be in [2, 1000000]");
        if (!(betaStart > 0 && betaStart <= betaEnd && betaEnd < 1))
            throw new ArgumentOutOfRangeException(nameof(betaStart), string.Create(inv, $"schedule betas {betaStart} .. {betaEnd} must satisfy 0 < start <= end < 1"));
        TrainSteps = trainSteps;
        BetaStart = betaStart;
        BetaEnd = betaEnd;
        _abar = new double[trainSteps];
        double prod = 1;
        for (int t = 0; t < trainSteps; t++)
        {
            prod *= 1 - Beta(t);
            _abar[t] = prod;
        }
    }

    /// <summary>beta_t = start + (end - start) t / (N - 1), as torch.linspace(start, end, N).</summary>
    public double Beta(int t) => BetaStart + (BetaEnd - BetaStart) * t / (TrainSteps - 1);

    /// <summary>abar_t, t in 0 .. N-1.</summary>
    public double Abar(int t) => _abar[t];

    /// <summary>
    /// The DDIM timesteps for <paramref name="steps"/> sampling steps, as the DDIM paper's "uniform" skip and
    /// diffusers' DDIMScheduler ("leading" spacing, steps_offset 0): ratio = N / S (integer), timesteps
    /// (S-1) ratio, ..., ratio, 0, descending. For 50 of 1000: 980, 960, ..., 20, 0.
    /// </summary>
    public int[] DdimTimesteps(int steps)
    {
        if (steps < 1 || steps > TrainSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), $"DDIM steps {steps} must be in [1, {TrainSteps}]");
        int ratio = TrainSteps / steps;
        var ts = new int[steps];
        for (int i = 0; i < steps; i++) ts[i] = (steps - 1 - i) * ratio;
        return ts;
    }

    /// <summary>
    /// (abar_t, abar_prev) for each DDIM step in sampling order: abar_prev is abar at the next (smaller) timestep, and
    /// 1 after the final step (diffusers' set_alpha_to_one = True), so the last step returns x0_hat itself.
    /// SD 1.5's scheduler config sets steps_offset = 1 and set_alpha_to_one = False; METHOD §6 and the brief take the
    /// plain form, which ends exactly on the data law's scale.
    /// </summary>
    public (double Abar, double AbarPrev)[] DdimSteps(int steps)
    {
        var ts = DdimTimesteps(steps);
        var result = new (double, double)[steps];
        for (int i = 0; i < steps; i++)
            result[i] = (_abar[ts[i]], i + 1 < steps ? _abar[ts[i + 1]] : 1.0);
        return result;
    }

    /// <summary>
    /// The continuous-time limit on t in [0, 1] (Song et al. 2021): beta(t) = N (start + (end - start) t), so
    /// 0.1 .. 20 for the defaults; abar(t) = exp(-integral_0^t beta). Used for Proposition 4.1's reverse ODE.
    /// </summary>
    public double ContinuousBeta(double t) => TrainSteps * (BetaStart + (BetaEnd - BetaStart) * t);

    /// <summary>abar(t) = exp(-(b0 t + (b1 - b0) t^2 / 2)) of <see cref="ContinuousBeta"/>.</summary>
    public double ContinuousAbar(double t) =>
        Math.Exp(-TrainSteps * (BetaStart * t + 0.5 * (BetaEnd - BetaStart) * t * t));
}
