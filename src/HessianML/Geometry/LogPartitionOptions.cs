using HessianML.Compute;
using HessianML.Autodiff.Layers;

namespace HessianML.Geometry;

/// <summary>How psi is represented.</summary>
public enum PsiParametrisation
{
    /// <summary>The paper's network: 2 -> Depth x (Linear Hidden, LayerNorm, ReLU) -> 1. Its Hessian is rough (piecewise).</summary>
    PaperMlp,

    /// <summary>The same network with a smooth activation (<see cref="LogPartitionOptions.SmoothActivation"/>): analytic Hessian.</summary>
    SmoothMlp,

    /// <summary>A tensor-product cubic B-spline on the box (<see cref="LogPartitionOptions.SplineCount"/> per axis).</summary>
    BSpline,

    /// <summary>
    /// psi = s log sum_k exp(&lt;alpha_k, u&gt; + beta_k) (<see cref="LogSumExpPsi"/>): the log-partition of a discrete
    /// exponential family, convex by construction, so its metric is positive semi-definite everywhere. Under
    /// <see cref="PsiFit.LogPosteriorLeastSquares"/> it goes through the grid values; under <see cref="PsiFit.Jsd"/> through
    /// the JSD-fitted spline's values on the grid (its convex projection).
    /// </summary>
    LogSumExp,

    /// <summary>The default: <see cref="LogSumExp"/> under either fit. A fitted psi never reports it.</summary>
    Auto,
}

/// <summary>
/// The coordinate w(t) of one axis of t in which the model is taken to be an exponential family: the one a
/// <see cref="LogSumExpPsi"/> is affine in, and the one the exponential-family posterior head's logits are linear in
/// (<see cref="HessianML.Posterior.PosteriorGridOptions.HeadCoordinate1"/>). psi = F(w(t)) with F a log-sum-exp that is
/// nondecreasing in every warped coordinate, and w_i convex, is convex in t (a convex nondecreasing function of convex
/// functions), so the metric stays positive semi-definite whatever the warp.
/// </summary>
public enum ExponentialCoordinate
{
    /// <summary>w = t: psi is a log-sum-exp of affine functions of t (an exponential family in natural parameters, e.g. Ising's (beta, h)).</summary>
    Natural,

    /// <summary>
    /// w = -log t (t &gt; 0 on the whole box), with every atom's coordinate on this axis &gt;= 0, so psi decreases in t.
    /// WHY: a partition function that is a polynomial in 1/t with positive coefficients is exactly a log-sum-exp in
    /// -log t: the open TASEP's Z_L is one in 1/alpha and 1/beta (matrix-product ansatz), so its psi, whose curvature
    /// spans three decades over (alpha, beta) in [0.05, 0.95]^2, is a smooth log-sum-exp there. Measured on the exact
    /// L = 40 psi (24 x 24 grid, 20 atoms per axis, inner 80% of a 48 x 48 grid): metric error 0.063 and median per-cell
    /// error 0.009 in -log coordinates against 0.32 and 0.22 in natural ones.
    /// </summary>
    NegativeLog,
}

/// <summary>Which objective fits psi to the posteriors.</summary>
public enum PsiFit
{
    /// <summary>METHOD §3: mean JSD between the normalised Bregman model q_psi(.|t_i) and the posterior p_i.</summary>
    Jsd,

    /// <summary>
    /// METHOD §8: grid values of N psi from <see cref="LogPosteriorLeastSquares.Solve"/>, then a log-sum-exp
    /// (<see cref="PsiParametrisation.LogSumExp"/>, the default) or a least-squares B-spline through them. Exact for
    /// exponential families with calibrated posteriors.
    /// </summary>
    LogPosteriorLeastSquares,
}

/// <summary>Which rows' posteriors psi is fitted to, by the <see cref="LogPartitionOptions.SplitColumnName"/> flag.</summary>
public enum PsiRows
{
    /// <summary>Rows the posterior network trained on (split == false): many rows, but their posteriors are sharper than the truth where the network memorised them.</summary>
    Training,

    /// <summary>Held-out rows (split == true): honest posteriors, a fifth of the rows at the default split.</summary>
    HeldOut,

    /// <summary>Every row.</summary>
    All,
}

/// <summary>
/// Options of <see cref="LogPartitionTrainer"/>. The spline's learning rate and epochs were set from fits to exact
/// posteriors of a quadratic psi (tests/HessianML.Tests/Geometry/LogPartitionTests.cs); the parametrisation from the
/// end-to-end runs in the README ("The method end to end").
/// </summary>
public sealed class LogPartitionOptions
{
    /// <summary>
    /// Default <see cref="PsiParametrisation.Auto"/>: <see cref="PsiParametrisation.LogSumExp"/> under log-posterior
    /// least squares, <see cref="PsiParametrisation.BSpline"/> under JSD.
    /// WHY LogSumExp for least squares: that fit assumes an exponential family, whose psi is convex, and a log-sum-exp
    /// is convex by construction, so its metric is positive semi-definite everywhere; the least-squares spline through
    /// the same grid values had an indefinite metric in 42% of the interior cells of the default Ising run (issue 14).
    /// Measured on Ising L = 8 (24 x 24 grid, the exponential-family head's posteriors, inner 80% of a 48 x 48 grid),
    /// spline against log-sum-exp: metric error 0.325 against 0.057, median per-cell metric error 0.42 against 0.13,
    /// indefinite cells 42% against none, psi and gradient errors the same or lower (README, "The method end to end").
    /// WHY the spline for JSD: its value, gradient and Hessian are exact, smooth and linear in its coefficients, so the
    /// JSD fit needs no double backward; and JSD is the fit for families that are not exponential (TASEP), whose psi
    /// need not be convex. Measured end to end on TASEP L = 40 (README): the softplus MLP fitted by JSD gave the same
    /// psi and derivative errors (0.109 / 0.192 / 0.228 against 0.107 / 0.193 / 0.229) and metric error 0.47 against
    /// 0.49, in about ten times the time; the paper's ReLU MLP has a piecewise Hessian (METHOD §3).
    /// </summary>
    public PsiParametrisation Parametrisation { get; set; } = PsiParametrisation.Auto;

    /// <summary>Default <see cref="PsiFit.Jsd"/>, the paper's loss: it works for every parametrisation and is robust to badly calibrated posteriors (METHOD §8).</summary>
    public PsiFit Fit { get; set; } = PsiFit.Jsd;

    /// <summary>MLP hidden width. Default 512, the paper's.</summary>
    public int Hidden { get; set; } = 512;

    /// <summary>MLP hidden layers. Default 4, the paper's.</summary>
    public int Depth { get; set; } = 4;

    /// <summary>Activation of <see cref="PsiParametrisation.SmoothMlp"/>. Default Softplus (convex, smooth; METHOD §3 lists it).</summary>
    public ActivationKind SmoothActivation { get; set; } = ActivationKind.Softplus;

    /// <summary>
    /// Passes over the training rows (JSD fit); null (default) picks 100 for the spline (cheap steps; fewer left the
    /// metric error several times higher on the quadratic test) and 40 for MLPs (each step is a double backward
    /// through the network).
    /// </summary>
    public int? Epochs { get; set; }

    /// <summary>
    /// Where an MLP psi trains (<see cref="PsiFit.Jsd"/> with an MLP parametrisation): <see cref="ComputeDevice.Cpu"/>
    /// (default: the CPU engine), a CUDA GPU, or ILGPU's CPU accelerator (the GPU kernels on the CPU; for checking). The
    /// spline and log-sum-exp fits are small double-precision problems and always run on the CPU. The fitted psi is the
    /// same model wherever it trained (within float rounding); a missing CUDA device fails the fit in one line.
    /// </summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    /// <summary>Rows per Adam step (JSD fit). Default 64: a compromise between step count and gradient noise.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>
    /// Peak Adam learning rate (cosine-decayed to 1/20 over the fit); null (default) picks 1e-3 for MLPs (the paper's)
    /// and 0.5 for the spline (WHY: spline coefficients are psi values themselves, of the size of N psi, tens to
    /// hundreds; measured on the quadratic test, 0.05 for 60 epochs left a 20% metric error, 0.5 for 200 epochs 0.1%).
    /// </summary>
    public double? LearningRate { get; set; }

    /// <summary>B-spline basis functions per axis. Default 16: resolves the posterior grids used (24 x 24) without overfitting noise.</summary>
    public int SplineCount { get; set; } = 16;

    /// <summary>
    /// Log-posterior least squares only: weight of the third-difference penalty of the spline put through the grid values,
    /// relative to the mean diagonal of its normal equations (quadratics pass unpenalised, so a smooth psi is not
    /// biased). Default 1e-2. WHY: grid values learned from samples carry cell-to-cell noise that a near-interpolating
    /// spline turns into a noisy Hessian. Measured on Ising L = 8 (24 x 24 grid, 24 splines, exponential-family head,
    /// 60 epochs): interior metric error 0.43 with a negligible penalty, 0.36 at 1e-3, 0.33 at 1e-2, 0.33 at 3e-2, 0.37 at
    /// 1e-1, while the exact psi through the same spline (the grid floor) went 0.30, 0.30, 0.29, 0.31, 0.35.
    /// </summary>
    public double Smoothness { get; set; } = 1e-2;

    /// <summary>
    /// <see cref="PsiParametrisation.LogSumExp"/> only: atoms per axis of the grid of gradients the sum runs over (it
    /// has the square of this many terms). Default 20. WHY: the atoms are where grad psi can go and the metric is their
    /// softmax covariance, so too few make it lumpy, and the fit's Gauss-Newton solves cost about M^6. Measured on Ising
    /// L = 8 (24 x 24 grid, the exponential-family head's posteriors of the default run / of seed 2 on beta 0.3:0.7,
    /// h -0.25:0.25): interior metric error 0.10 / 0.064 with 16, 0.057 / 0.051 with 20, 0.053 / 0.062 with 24, 0.11
    /// (seed 1) with 32; median per-cell error 0.15 / 0.19, 0.13 / 0.14, 0.14 / 0.15; 20 takes about 14 s.
    /// </summary>
    public int LogSumExpAtoms { get; set; } = 20;

    /// <summary>
    /// <see cref="PsiParametrisation.LogSumExp"/> only: weight of the third-difference penalty on the biases over the
    /// atom grid, relative to the mean diagonal of the fit's normal equations (a quadratic psi, whose biases are
    /// quadratic, passes unpenalised). Default 1e-3. WHY: it fixes the biases of atoms that no grid point's gradient
    /// reaches and damps cell-to-cell noise of learned values; too much of it flattens the metric's peaks. Measured on
    /// Ising L = 8 with 20 atoms per axis (default run / seed 2, as for <see cref="LogSumExpAtoms"/>): interior metric
    /// error 0.074 / 0.039 without it, 0.057 / 0.051 at 1e-3, 0.055 / 0.077 at 3e-3 (and with 24 atoms on the default
    /// run 0.070 at 1e-2, 0.22 at 1e-1).
    /// </summary>
    public double LogSumExpSmoothness { get; set; } = 1e-3;

    /// <summary>
    /// <see cref="PsiParametrisation.LogSumExp"/> only: the coordinate of t1 the sum is affine in (see
    /// <see cref="ExponentialCoordinate"/>). Default <see cref="ExponentialCoordinate.Natural"/>; <c>hessian run tasep</c> uses
    /// <see cref="ExponentialCoordinate.NegativeLog"/> on both axes.
    /// </summary>
    public ExponentialCoordinate Coordinate1 { get; set; } = ExponentialCoordinate.Natural;

    /// <summary><see cref="PsiParametrisation.LogSumExp"/> only: as <see cref="Coordinate1"/>, for t2.</summary>
    public ExponentialCoordinate Coordinate2 { get; set; } = ExponentialCoordinate.Natural;

    /// <summary>Seed of the initial weights and minibatch order. Default 1 (fits are reproducible).</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>Receives about 20 lines per fit (epoch, loss, elapsed time); the CLI prints them to stderr. Default null (silent).</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>Column of true parameters (Float32 vector[2]). Default "t" (the issue-4 contract).</summary>
    public string ParameterColumnName { get; set; } = "t";

    /// <summary>Posterior column (Float32 vector[K*K]). Default "posterior".</summary>
    public string PosteriorColumnName { get; set; } = "posterior";

    /// <summary>Rows to fit on when the view has the split column (without it, every row). Default <see cref="PsiRows.Training"/>.</summary>
    public PsiRows Rows { get; set; } = PsiRows.Training;

    /// <summary>Boolean held-out flag (true = held out by the posterior network); <see cref="Rows"/> picks by it. Default "split".</summary>
    public string SplitColumnName { get; set; } = "split";

    /// <summary><see cref="Parametrisation"/> with <see cref="PsiParametrisation.Auto"/> resolved by <see cref="Fit"/>.</summary>
    public PsiParametrisation EffectiveParametrisation => Parametrisation != PsiParametrisation.Auto ? Parametrisation : PsiParametrisation.LogSumExp;

    internal double EffectiveLearningRate => LearningRate ?? (EffectiveParametrisation == PsiParametrisation.BSpline ? 0.5 : 1e-3);

    internal int EffectiveEpochs => Epochs ?? (EffectiveParametrisation == PsiParametrisation.BSpline ? 100 : 40);

    /// <summary>A copy with <see cref="Parametrisation"/> resolved (never <see cref="PsiParametrisation.Auto"/>).</summary>
    internal LogPartitionOptions Resolved() => With(EffectiveParametrisation);

    /// <summary>
    /// The atoms' window extends the range of the values' gradients by this fraction of it on each side. WHY: a softmax
    /// mean reaches an atom only in the limit, so the gradients at the box's edge need atoms beyond them; measured on
    /// Ising L = 8 (default run, 24 atoms per axis): metric error 0.059 at 0.1, 0.053 at 0.2, 0.058 at 0.35.
    /// </summary>
    internal const double LogSumExpMargin = 0.2;

    internal LogSumExpFit.Settings LogSumExpSettings => new(LogSumExpAtoms, LogSumExpSmoothness, LogSumExpMargin, SplineCount)
    {
        Axis1 = Coordinate1,
        Axis2 = Coordinate2,
    };

    internal LogPartitionOptions Clone() => (LogPartitionOptions)MemberwiseClone();

    /// <summary>A copy with another parametrisation (and so that parametrisation's default learning rate and epochs).</summary>
    internal LogPartitionOptions With(PsiParametrisation parametrisation)
    {
        var o = Clone();
        o.Parametrisation = parametrisation;
        return o;
    }
}
