namespace HessianML.Systems.Diffusion;

/// <summary>
/// Proposition 4.1 of the paper (METHOD §6), made checkable. Data law (N(-mu, s^2) + N(mu, s^2)) / 2 in 1D, latent
/// N(0, 1), VP SDE dx = -beta(t) x / 2 dt + sqrt(beta(t)) dW on t in [0, 1]. The probability-flow ODE run backwards
/// (reverse time tau, dt = -dtau) is dx/dtau = v(x, t) = beta(t) (x + score_t(x)) / 2, and x = 0 is its fixed point
/// (the phase boundary). Its Lyapunov exponent there is
/// <code>
/// lambda(t) = dv/dx(0, t) = beta(t)/2 (1 - 1/sigma_t^2 + m_t^2/sigma_t^4),  m_t = sqrt(abar_t) mu,  sigma_t^2 = abar_t s^2 + 1 - abar_t
/// </code>
/// since score_t(x) = -x / sigma_t^2 + (m_t / sigma_t^2) tanh(m_t x / sigma_t^2). As t -> 0 (abar -> 1),
/// lambda(0) = beta(0)/2 (1 - 1/s^2 + mu^2/s^4) = beta(0)/2 mu^2/s^4 (1 - s^2 (1 - s^2)/mu^2): it diverges like mu^2/s^4.
/// (The paper's equations are not legible in our copy; this is the statement re-derived, with the constant
/// beta(0)/2 of the schedule's continuous limit, <see cref="VpSchedule.ContinuousBeta"/>.)
/// </summary>
public static class TwoModeLyapunov
{
    /// <summary>Closed-form lambda(t) above (continuous-time schedule of <paramref name="schedule"/>, default the standard one).</summary>
    public static double Exponent(double mu, double s, double t, VpSchedule? schedule = null)
    {
        Check(mu, s, t);
        schedule ??= VpSchedule.Default;
        double abar = schedule.ContinuousAbar(t), v = abar * s * s + 1 - abar, m2 = abar * mu * mu;
        return 0.5 * schedule.ContinuousBeta(t) * (1 - 1 / v + m2 / (v * v));
    }

    /// <summary>The leading term beta(0)/2 mu^2/s^4 that lambda(t -> 0) approaches as s -> 0.</summary>
    public static double LeadingTerm(double mu, double s, VpSchedule? schedule = null)
    {
        Check(mu, s, 0);
        schedule ??= VpSchedule.Default;
        return 0.5 * schedule.ContinuousBeta(0) * mu * mu / (s * s * s * s);
    }

    /// <summary>Reverse-time velocity v(x, t) = beta(t) (x + score_t(x)) / 2 with the mixture's closed-form score.</summary>
    public static double Velocity(GaussianMixture mixture, double x, double t, VpSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        if (mixture.Dimension != 1) throw new ArgumentException($"the velocity is for a 1D mixture, not dimension {mixture.Dimension}");
        schedule ??= VpSchedule.Default;
        Span<double> score = stackalloc double[1];
        mixture.DiffusedScore([x], schedule.ContinuousAbar(t), score);
        return 0.5 * schedule.ContinuousBeta(t) * (x + score[0]);
    }

    /// <summary>
    /// Measured lambda(t): the central difference (v(h) - v(-h)) / 2h of <see cref="Velocity"/> at x = 0, with
    /// h = 1e-4 sigma_t^2 / |m_t|. WHY that h: v''' (0) / v'(0) is about 2 m^2 / sigma^4 here, so the truncation error
    /// is h^2 m^2 / (3 sigma^4) = 3e-9 relative, while the rounding error stays near 1e-16 / (h m / sigma^2) = 1e-12.
    /// </summary>
    public static double MeasuredExponent(double mu, double s, double t, VpSchedule? schedule = null)
    {
        Check(mu, s, t);
        schedule ??= VpSchedule.Default;
        var mixture = GaussianMixture.TwoModes1D(mu, s);
        double abar = schedule.ContinuousAbar(t), v = abar * s * s + 1 - abar, m = Math.Sqrt(abar) * Math.Abs(mu);
        double h = 1e-4 * v / Math.Max(m, 1e-300);
        h = Math.Min(h, 1e-4);
        return (Velocity(mixture, h, t, schedule) - Velocity(mixture, -h, t, schedule)) / (2 * h);
    }

    /// <summary>
    /// The Lipschitz constant of the whole DDIM map latent -> sample at the boundary latent x_T = 0 of a 1D two-mode
    /// generator, measured by central differences. h starts at 1e-3 and shrinks until the output moves by at most
    /// 1e-4 mu, so the difference stays in the linear regime however large the gain (it is 1e5 at s = 0.1).
    /// </summary>
    public static double MeasuredDdimGain(KnownScoreDiffusionGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (generator.LatentDimension != 1 || generator.Mixture.Components != 2 || !generator.IsDeterministic)
            throw new ArgumentException("the boundary gain is for a deterministic (eta = 0) generator of a 1D two-component mixture (GaussianMixture.TwoModes1D)");
        double mu = Math.Abs(generator.Mixture.Mean(1)[0] - generator.Mixture.Mean(0)[0]) / 2;
        double h = 1e-3, gain = 0;
        for (int it = 0; it < 60; it++)
        {
            double up = generator.Generate([h])[0], down = generator.Generate([-h])[0];
            gain = Math.Abs(up - down) / (2 * h);
            double next = 1e-4 * mu / Math.Max(gain, 1);
            if (next >= h / 2) break;
            h = next;
        }
        return gain;
    }

    /// <summary>
    /// The same gain in closed form: the product over DDIM steps of the step's derivative at x = 0,
    /// sqrt(abar_prev / abar) (1 + (1 - abar) c) - sqrt(1 - abar_prev) sqrt(1 - abar) c with
    /// c = score'(0) = -1/sigma^2 + m^2/sigma^4 (eta = 0). Its log approximates the integral of lambda in reverse time
    /// only while the steps resolve the last stretch t ~ s^2 / beta(0); the 50-step schedule stops resolving it near
    /// s^2 = 1 - abar at the last timestep, so the discrete gain grows far more slowly than exp(mu^2 / 2 s^2).
    /// </summary>
    public static double DdimGainFormula(double mu, double s, int steps, VpSchedule? schedule = null)
    {
        Check(mu, s, 0);
        schedule ??= VpSchedule.Default;
        double gain = 1;
        foreach (var (a, ap) in schedule.DdimSteps(steps))
        {
            double v = a * s * s + 1 - a, c = -1 / v + a * mu * mu / (v * v);
            gain *= Math.Sqrt(ap / a) * (1 + (1 - a) * c) - Math.Sqrt(1 - ap) * Math.Sqrt(1 - a) * c;
        }
        return Math.Abs(gain);
    }

    private static void Check(double mu, double s, double t)
    {
        if (!double.IsFinite(mu) || mu == 0) throw new ArgumentOutOfRangeException(nameof(mu), $"mode position mu {mu} must be finite and non-zero");
        if (!(s > 0) || !double.IsFinite(s)) throw new ArgumentOutOfRangeException(nameof(s), $"mode std s {s} must be positive and finite");
        if (!(t >= 0 && t <= 1)) throw new ArgumentOutOfRangeException(nameof(t), $"time t {t} must be in [0, 1]");
    }
}
