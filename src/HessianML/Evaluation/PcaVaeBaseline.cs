using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Data;
using HessianML.Geometry;
using HessianML.Posterior;
using HessianML.Tensors;

namespace HessianML.Evaluation;

/// <summary>Settings of the PCA-VAE baseline (METHOD.md §7); training and integration as Mean-as-Stat's.</summary>
public sealed class PcaVaeOptions : BaselineOptions
{
    /// <summary>Dimension of the VAE's latent space, reduced to 2 by PCA afterwards. Default 8 (more than the 2 the statistic keeps, so PCA has something to choose).</summary>
    public int Latent { get; set; } = 8;

    /// <summary>Hidden width of the encoder and the decoder (one hidden layer each). Default 64.</summary>
    public int Hidden { get; set; } = 64;

    internal PcaVaeOptions Clone() => (PcaVaeOptions)MemberwiseClone();
}

/// <summary>
/// The PCA-VAE baseline of METHOD.md §7: a VAE (Bernoulli decoder over the sites, Gaussian latent) is trained on the
/// samples alone, without t; the latent means of all samples are reduced to their 2 principal components, taken as
/// the statistic T_hat(x), and psi is fitted so that grad psi(t) ~ E[T_hat | t] exactly as Mean-as-Stat does
/// (<see cref="MeanAsStatBaseline.IntegrateGradient"/>). Unlike Mean-as-Stat it never sees t while learning the
/// statistic, which is what makes it the unsupervised baseline of the paper.
/// </summary>
public static class PcaVaeBaseline
{
    /// <summary>The fitted psi, the last epoch's mean loss per sample (negative ELBO, nats) and the share of latent variance the 2 components keep.</summary>
    public sealed record Result(TensorBSpline Psi, double Loss, double ExplainedVariance);

    /// <summary>Trains the VAE on <paramref name="samples"/> (`t`, `state`), takes the PCA statistic and integrates it.</summary>
    public static Result Fit(ColumnTable samples, ParameterBox box, PcaVaeOptions options)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Latent < 2) throw new ArgumentOutOfRangeException(nameof(options), $"Latent {options.Latent} must be at least 2 (PCA keeps 2 components)");
        var shape = SampleShape.Of(samples);
        int n = samples.RowCount, sites = shape.Sites, d = options.Latent;
        var t = samples.GetColumn<float>("t").ToArray();
        var x = Binary(samples.GetColumn<sbyte>("state").Span, n, sites);

        var encoder = new Sequential<float>(
            new Linear<float>(sites, options.Hidden, new SplitMix64(options.Seed)), new Activation<float>(ActivationKind.Relu),
            new Linear<float>(options.Hidden, 2 * d, new SplitMix64(options.Seed + 1)));
        var decoder = new Sequential<float>(
            new Linear<float>(d, options.Hidden, new SplitMix64(options.Seed + 2)), new Activation<float>(ActivationKind.Relu),
            new Linear<float>(options.Hidden, sites, new SplitMix64(options.Seed + 3)));
        var adam = new Adam<float>([.. encoder.Parameters(), .. decoder.Parameters()], options.LearningRate);
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SplitMix64(options.Seed + 17);
        double loss = double.NaN;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double sum = 0;
            for (int start = 0; start < n; start += options.BatchSize)
            {
                int b = Math.Min(options.BatchSize, n - start);
                var batch = Var<float>.Constant(Rows(x, order.AsSpan(start, b), sites));
                adam.ZeroGrad();
                var l = NegativeElbo(encoder, decoder, batch, d, rng);
                l.Backward();
                adam.Step();
                sum += l.Value[0] * b;
            }
            loss = sum / n;
            options.Progress?.Invoke($"pca-vae: epoch {epoch + 1}/{options.Epochs}, negative ELBO {loss:F3} nats per sample");
        }

        // Latent means of every sample, then their two principal components as T_hat.
        var mu = new double[n * d];
        var all = Enumerable.Range(0, n).ToArray();
        using (GradMode.NoGrad())
            for (int start = 0; start < n; start += 1024)
            {
                var rows = all.AsSpan(start, Math.Min(1024, n - start));
                var h = encoder.Forward(Var<float>.Constant(Rows(x, rows, sites))).Value;
                for (int r = 0; r < rows.Length; r++)
                    for (int k = 0; k < d; k++) mu[(start + r) * d + k] = h[r, k];
            }
        var (statistic, explained) = PrincipalScores(mu, n, d, 2);
        AlignWithParameters(statistic, t, n);
        return new Result(MeanAsStatBaseline.IntegrateGradient(t, statistic, box, options.SplineCount, options.Ridge), loss, explained);
    }

    /// <summary>
    /// Mean over the batch of -ELBO: Bernoulli cross-entropy of the decoded logits (softplus(z) - x z, per site) plus
    /// KL(N(mu, sigma^2) || N(0, 1)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2), with z = mu + sigma eps.
    /// </summary>
    internal static Var<float> NegativeElbo(Module<float> encoder, Module<float> decoder, Var<float> x, int d, SplitMix64 rng)
    {
        int b = x.Value.Dim(0);
        var h = encoder.Forward(x);
        var mu = Ops.Slice(h, 1, 0, d);
        var logVar = Ops.Slice(h, 1, d, d);
        var eps = new float[b * d];
        for (int i = 0; i < eps.Length; i++) eps[i] = (float)rng.NextNormal();
        var z = Ops.Add(mu, Ops.Mul(Ops.Exp(Ops.Scale(logVar, 0.5)), Var<float>.Constant(Tensor<float>.FromArray(eps, b, d))));
        var logits = decoder.Forward(z);
        var reconstruction = Ops.Sum(Ops.Sub(Ops.Softplus(logits), Ops.Mul(x, logits)));
        var kl = Ops.Scale(Ops.Sum(Ops.Sub(Ops.Add(Ops.AddScalar(logVar, 1.0), Ops.Neg(Ops.Square(mu))), Ops.Exp(logVar))), -0.5);
        return Ops.Scale(Ops.Add(reconstruction, kl), 1.0 / b);
    }

    /// <summary>
    /// Scores of the rows of <paramref name="data"/> (n x d, row-major) on the top <paramref name="keep"/> principal
    /// components of its covariance (n x keep, row-major), and the share of the total variance those components hold.
    /// Components are ordered by variance and signed so that their largest loading is positive (a fixed orientation).
    /// </summary>
    internal static (double[] Scores, double Explained) PrincipalScores(double[] data, int n, int d, int keep)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) mean[k] += data[i * d + k] / n;
        var cov = new double[d * d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
            {
                double xa = data[i * d + a] - mean[a];
                for (int c = 0; c < d; c++) cov[a * d + c] += xa * (data[i * d + c] - mean[c]) / Math.Max(1, n - 1);
            }
        var (values, vectors) = SymmetricEigen(cov, d);
        var byVariance = Enumerable.Range(0, d).OrderByDescending(k => values[k]).ToArray();
        double total = values.Sum(v => Math.Max(v, 0));
        double kept = 0;
        var scores = new double[n * keep];
        for (int c = 0; c < keep; c++)
        {
            int k = byVariance[c];
            kept += Math.Max(values[k], 0);
            int largest = Enumerable.Range(0, d).MaxBy(r => Math.Abs(vectors[r * d + k]));
            double sign = vectors[largest * d + k] < 0 ? -1 : 1;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int r = 0; r < d; r++) s += (data[i * d + r] - mean[r]) * vectors[r * d + k];
                scores[i * keep + c] = sign * s;
            }
        }
        return (scores, total > 0 ? kept / total : 0);
    }

    /// <summary>
    /// Orders and signs the two components so that component j rises with t_j: principal components come in arbitrary
    /// order and sign, and grad psi(t) = E[T_hat | t] has a convex solution only when the statistic increases with the
    /// parameter it stands for (a reversed component integrates to a concave psi, whose best positive scale is 0).
    /// The assignment (identity or swap) maximises the summed |correlation|; t is used for nothing else.
    /// </summary>
    internal static void AlignWithParameters(double[] statistic, ReadOnlySpan<float> t, int n)
    {
        double Corr(int c, int j, ReadOnlySpan<float> tt)
        {
            double ms = 0, mt = 0;
            for (int i = 0; i < n; i++) { ms += statistic[2 * i + c]; mt += tt[2 * i + j]; }
            ms /= n; mt /= n;
            double sst = 0, ss = 0, st = 0;
            for (int i = 0; i < n; i++)
            {
                double a = statistic[2 * i + c] - ms, b = tt[2 * i + j] - mt;
                sst += a * b; ss += a * a; st += b * b;
            }
            return ss > 0 && st > 0 ? sst / Math.Sqrt(ss * st) : 0;
        }
        double c00 = Corr(0, 0, t), c01 = Corr(0, 1, t), c10 = Corr(1, 0, t), c11 = Corr(1, 1, t);
        bool swap = Math.Abs(c01) + Math.Abs(c10) > Math.Abs(c00) + Math.Abs(c11);
        double sign0 = Math.Sign(swap ? c10 : c00) is 0 ? 1 : Math.Sign(swap ? c10 : c00);
        double sign1 = Math.Sign(swap ? c01 : c11) is 0 ? 1 : Math.Sign(swap ? c01 : c11);
        for (int i = 0; i < n; i++)
        {
            double s0 = statistic[2 * i], s1 = statistic[2 * i + 1];
            (statistic[2 * i], statistic[2 * i + 1]) = swap ? (sign0 * s1, sign1 * s0) : (sign0 * s0, sign1 * s1);
        }
    }

    /// <summary>Eigenvalues and eigenvectors (columns of a d x d row-major matrix) of a symmetric matrix by cyclic Jacobi rotations.</summary>
    internal static (double[] Values, double[] Vectors) SymmetricEigen(double[] matrix, int d)
    {
        var a = (double[])matrix.Clone();
        var v = new double[d * d];
        for (int i = 0; i < d; i++) v[i * d + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < d; p++)
                for (int q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
            if (off < 1e-30) break;
            for (int p = 0; p < d; p++)
                for (int q = p + 1; q < d; q++)
                {
                    double apq = a[p * d + q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                    double tan = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double cos = 1 / Math.Sqrt(tan * tan + 1), sin = tan * cos;
                    for (int k = 0; k < d; k++)
                    {
                        double akp = a[k * d + p], akq = a[k * d + q];
                        a[k * d + p] = cos * akp - sin * akq;
                        a[k * d + q] = sin * akp + cos * akq;
                    }
                    for (int k = 0; k < d; k++)
                    {
                        double apk = a[p * d + k], aqk = a[q * d + k];
                        a[p * d + k] = cos * apk - sin * aqk;
                        a[q * d + k] = sin * apk + cos * aqk;
                    }
                    for (int k = 0; k < d; k++)
                    {
                        double vkp = v[k * d + p], vkq = v[k * d + q];
                        v[k * d + p] = cos * vkp - sin * vkq;
                        v[k * d + q] = sin * vkp + cos * vkq;
                    }
                }
        }
        return ([.. Enumerable.Range(0, d).Select(i => a[i * d + i])], v);
    }

    // Sites as Bernoulli targets: Ising spins -1/+1 and TASEP occupations 0/1 both become 0/1.
    private static float[] Binary(ReadOnlySpan<sbyte> state, int n, int sites)
    {
        var x = new float[n * sites];
        for (int i = 0; i < x.Length; i++) x[i] = state[i] > 0 ? 1f : 0f;
        return x;
    }

    private static Tensor<float> Rows(float[] x, ReadOnlySpan<int> rows, int sites)
    {
        var y = new float[rows.Length * sites];
        for (int r = 0; r < rows.Length; r++) x.AsSpan(rows[r] * sites, sites).CopyTo(y.AsSpan(r * sites, sites));
        return Tensor<float>.FromArray(y, rows.Length, sites);
    }
}
