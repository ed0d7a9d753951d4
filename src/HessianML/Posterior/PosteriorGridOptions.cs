using HessianML.Compute;
namespace HessianML.Posterior;

/// <summary>Training labels of the mapping network (METHOD.md §4a and §8).</summary>
public enum PosteriorLabels
{
    /// <summary>The paper's eq. 128: mean over the bundle of Gaussian bumps of width <see cref="PosteriorGridOptions.Sigma"/>.</summary>
    Smoothed,

    /// <summary>Mean over the bundle of the one-hot true cells: a proper scoring rule, no smoothing blur (§8).</summary>
    Hard,
}

/// <summary>The mapping network's shape.</summary>
public enum PosteriorArchitecture
{
    /// <summary>Convolutional when the schema says "ising" (or the state length is a square and the system is not "tasep"); dense otherwise.</summary>
    Auto,

    /// <summary>Circular-padded 3x3 convolutions on the L x L torus, global average pooling, two linear layers.</summary>
    Convolutional,

    /// <summary>An MLP on the flattened bundle (TASEP: open boundaries, so position matters and pooling would lose it).</summary>
    Dense,

    /// <summary>
    /// METHOD §8's exponential-family head, opt-in: logits_k = &lt;T_hat(bundle), u_k&gt; - phi(t'_k), T_hat a learned statistic
    /// summed over sites and members, phi a B-spline (<see cref="PosteriorGridOptions.HeadSplineCount"/>). The posterior
    /// then has the exact Bayes form of an exponential family, so log-posterior least squares recovers phi (= N psi up to
    /// affine) from it exactly. Right for Ising (an exponential family); worse than the paper's network on TASEP (§8).
    /// Trained by the same loop and options, with two head-only details: the learning rate is cosine-decayed to 1/20
    /// over the epochs, and the training logits carry the labels' empirical log-prior (see the estimator). Measured with
    /// the shared defaults (20 epochs, 2e-3) on Ising L = 8, 24 000 samples, 24 x 24 grid, 2 cores: 76 s, held-out CE
    /// 4.49 against the exact posterior's 4.46; NRMSE psi 0.05, d/dbeta 0.20, d/dh 0.08, metric 0.51 (the 16-spline
    /// floor) on the inner 80% after LogPartition(LogPosteriorLeastSquares). More epochs help d/dbeta (60: 0.13).
    /// Pair it with <c>LogPartitionOptions { Fit = LogPosteriorLeastSquares, SplineCount = HeadSplineCount }</c>: the
    /// default JSD fit would blur the exact form away (METHOD §8). `hessian run ising` uses 24 splines, 90 epochs and
    /// bundles of one sample (<see cref="PosteriorGridOptions.BundleSize"/>).
    /// </summary>
    ExponentialFamily,
}

/// <summary>Options of <see cref="PosteriorGridEstimator"/> (METHOD.md §4a). Every default is stated with its reason.</summary>
public sealed class PosteriorGridOptions
{
    /// <summary>Grid side K (the posterior lives on K x K cell centres). Default 24, as in METHOD §8.</summary>
    public int Grid { get; set; } = 24;

    /// <summary>
    /// Width of the smoothed label (eq. 128) in units of the box side. Default 0.5 / 24 (half a cell of the default
    /// grid): wide enough that a sample near a cell edge also credits the neighbour cell, narrow enough that the
    /// learned posterior (convolved with this kernel) is not visibly blurred. Only used with
    /// <see cref="PosteriorLabels.Smoothed"/>.
    /// </summary>
    public double Sigma { get; set; } = 0.5 / 24;

    /// <summary>Label kind. Default <see cref="PosteriorLabels.Hard"/>: METHOD §8 shows smoothing blurs psi; hard labels are a proper scoring rule.</summary>
    public PosteriorLabels Labels { get; set; } = PosteriorLabels.Hard;

    /// <summary>K_neib: neighbours in parameter space (itself included) a bundle is drawn from. Default 8 (the paper).</summary>
    public int NeighbourCount { get; set; } = 8;

    /// <summary>
    /// K_bundle: samples stacked as channels. Default 4 (the paper): 4x the information of one sample. With the
    /// <see cref="PosteriorArchitecture.ExponentialFamily"/> head on an exponential family use 1 (and
    /// <see cref="NeighbourCount"/> 1), as <c>hessian run ising</c> does: the head is already the exact per-sample form,
    /// and a bundle's label is spread over its neighbours' cells, wider than its likelihood, which flattens phi
    /// unevenly (Ising L = 8, interior NRMSE d/dbeta 0.089 with bundles of 4 from 8 neighbours, 0.055 with bundles of 1).
    /// </summary>
    public int BundleSize { get; set; } = 4;

    /// <summary>Fraction of rows held out (split == true). Default 0.2 (the paper's 80/20).</summary>
    public double TestFraction { get; set; } = 0.2;

    /// <summary>Passes over the training rows. Default 20: measured to bring Ising L = 8 close to its plateau in minutes.</summary>
    public int Epochs { get; set; } = 20;

    /// <summary>
    /// Keep the network of the epoch with the lowest held-out cross-entropy (early stopping on the held-out rows).
    /// Default true. WHY: the network memorises its training bundles (TASEP L = 40, dense: held-out CE fell to 4.69 at
    /// epoch 7 and rose to 5.37 by epoch 20 while the training loss kept falling), and psi is only as good as the
    /// posterior. Needs <see cref="TestFraction"/> &gt; 0; costs one held-out pass per epoch.
    /// </summary>
    public bool KeepBestEpoch { get; set; } = true;

    /// <summary>
    /// Where the network trains: <see cref="ComputeDevice.Cpu"/> (default: the CPU engine), a CUDA GPU, or ILGPU's CPU
    /// accelerator (the GPU kernels on the CPU; for checking). The fitted network is the same model wherever it trained
    /// (within float rounding) and is saved and applied on the CPU. A missing CUDA device fails the fit in one line.
    /// </summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    /// <summary>Minibatch size. Default 128: large enough for the GEMM to run near peak, small enough for many Adam steps per epoch.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Adam step size. Default 2e-3: Adam's usual 1e-3 doubled, stable for this small network and shortens the run.</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>
    /// Convolution channels C (also the per-site channels of the <see cref="PosteriorArchitecture.ExponentialFamily"/>
    /// head). Default 32: ample for the two Ising sufficient statistics (bond sum, magnetisation).
    /// </summary>
    public int Channels { get; set; } = 32;

    /// <summary>Hidden width H of the head (and of the dense network). Default 128. Unused by the exponential-family head.</summary>
    public int Hidden { get; set; } = 128;

    /// <summary>
    /// B-spline basis functions per axis of phi in the <see cref="PosteriorArchitecture.ExponentialFamily"/> head. Default
    /// 16, LogPartition's own <see cref="Geometry.LogPartitionOptions.SplineCount"/> default: with the same count (and the
    /// same box) the psi spline LogPartition fits through the least-squares grid values holds phi exactly. 16 per axis is
    /// 256 coefficients, fewer than the 576 cells of the default 24 x 24 grid (phi stays smooth between cells), with a knot
    /// spacing under two cells (enough for the h = 0 ridge of Ising to be as sharp as the grid shows it).
    /// </summary>
    public int HeadSplineCount { get; set; } = 16;

    /// <summary>
    /// Exponential-family head only: the coordinate of t1 its logits are linear in (<see cref="Geometry.ExponentialCoordinate"/>).
    /// Default <see cref="Geometry.ExponentialCoordinate.Natural"/> (Ising's (beta, h) are natural parameters);
    /// <c>hessian run tasep</c> uses <see cref="Geometry.ExponentialCoordinate.NegativeLog"/> on both axes, where Z_L is a
    /// polynomial in 1/alpha, 1/beta.
    /// </summary>
    public Geometry.ExponentialCoordinate HeadCoordinate1 { get; set; } = Geometry.ExponentialCoordinate.Natural;

    /// <summary>Exponential-family head only: as <see cref="HeadCoordinate1"/>, for t2.</summary>
    public Geometry.ExponentialCoordinate HeadCoordinate2 { get; set; } = Geometry.ExponentialCoordinate.Natural;

    /// <summary>Network shape. Default <see cref="PosteriorArchitecture.Auto"/> (from the schema's <c>system</c> metadata).</summary>
    public PosteriorArchitecture Architecture { get; set; } = PosteriorArchitecture.Auto;

    /// <summary>The parameter box. Default null: the bounding box of the data's t.</summary>
    public ParameterBox? Box { get; set; }

    /// <summary>Seed of the split, the bundles, the initialisation and the minibatch order. Default null: the context's next seed.</summary>
    public int? Seed { get; set; }

    /// <summary>Receives one line per epoch (train loss, held-out CE, seconds). Default null (silent).</summary>
    public Action<string>? Progress { get; set; }

    internal PosteriorGridOptions Clone() => (PosteriorGridOptions)MemberwiseClone();

    internal void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentOutOfRangeException(nameof(PosteriorGridOptions), "PosteriorGrid: " + what);
        }
        Check(Grid >= 1, $"Grid {Grid} must be >= 1");
        Check(Sigma > 0 && double.IsFinite(Sigma), $"Sigma {Sigma} must be positive");
        Check(NeighbourCount >= 1, $"NeighbourCount {NeighbourCount} must be >= 1");
        Check(BundleSize >= 1 && BundleSize <= NeighbourCount, $"BundleSize {BundleSize} must be in [1, NeighbourCount = {NeighbourCount}]");
        Check(TestFraction >= 0 && TestFraction < 1, $"TestFraction {TestFraction} must be in [0, 1)");
        Check(Epochs >= 0, $"Epochs {Epochs} must be >= 0");
        Check(BatchSize >= 1, $"BatchSize {BatchSize} must be >= 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate {LearningRate} must be positive");
        Check(Channels >= 1 && Hidden >= 1, $"Channels {Channels} and Hidden {Hidden} must be >= 1");
        Check(HeadSplineCount >= 4, $"HeadSplineCount {HeadSplineCount} must be >= 4 (a cubic spline needs 4 basis functions per axis)");
        Check(Enum.IsDefined(Architecture), $"Architecture {Architecture} is not a PosteriorArchitecture");
    }
}
