using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Data;
using HessianML.Pipeline;
using HessianML.Posterior;
using HessianML.Tensors;
using HessianML.Tensors.Devices;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Geometry;

/// <summary>
/// Fits the log-partition psi (METHOD §3, §8) to posteriors on a K x K grid: reads <c>t</c> (Float32[2]),
/// <c>posterior</c> (Float32[K*K], grid index i*K + j as <see cref="ParameterBox.CellCentres"/>) and the schema
/// metadata <c>posterior.grid</c> (K) and <c>posterior.box</c> ("lo1,hi1,lo2,hi2"); when a <c>split</c> column exists,
/// only the rows <see cref="LogPartitionOptions.Rows"/> picks by it. Returns a <see cref="LogPartitionTransformer"/> holding the fitted psi.
/// </summary>
public sealed class LogPartitionTrainer : Ml.IEstimator<LogPartitionTransformer>
{
    internal const string Name = "LogPartition";

    /// <summary>Metadata key of the grid side K (text).</summary>
    public const string GridKey = PosteriorGridMetadata.GridKey;

    /// <summary>Metadata key of the box, "lo1,hi1,lo2,hi2" in invariant culture.</summary>
    public const string BoxKey = PosteriorGridMetadata.BoxKey;

    private readonly LogPartitionOptions _o;

    public LogPartitionTrainer(LogPartitionOptions? options = null)
    {
        _o = (options ?? new LogPartitionOptions()).Resolved();
        if (_o.Fit == PsiFit.LogPosteriorLeastSquares && _o.Parametrisation is not (PsiParametrisation.BSpline or PsiParametrisation.LogSumExp))
            throw new ArgumentException($"{Name}: the log-posterior least-squares fit needs Parametrisation = BSpline or LogSumExp, got {_o.Parametrisation}");
        if (_o.LogSumExpAtoms is < 3 or > 48) throw new ArgumentOutOfRangeException(nameof(options), $"LogSumExpAtoms {_o.LogSumExpAtoms} must be in [3, 48]");
        if (!(_o.LogSumExpSmoothness >= 0 && double.IsFinite(_o.LogSumExpSmoothness))) throw new ArgumentOutOfRangeException(nameof(options), $"LogSumExpSmoothness {_o.LogSumExpSmoothness} must be finite and >= 0");
        if (_o.Hidden < 1 || _o.Depth < 1) throw new ArgumentOutOfRangeException(nameof(options), "Hidden and Depth must be >= 1");
        if (_o.EffectiveEpochs < 1 || _o.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Epochs and BatchSize must be >= 1");
        if (!(_o.Smoothness >= 0 && double.IsFinite(_o.Smoothness))) throw new ArgumentOutOfRangeException(nameof(options), $"Smoothness {_o.Smoothness} must be finite and >= 0");
        if (_o.SplineCount < 4) throw new ArgumentOutOfRangeException(nameof(options), "SplineCount must be >= 4");
        if (!(_o.EffectiveLearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), "LearningRate must be > 0");
    }

    public LogPartitionOptions Options => _o.Clone();

    // ---- ML.NET ----

    private ComponentColumns MlColumns => new(Name,
        [(_o.ParameterColumnName, ColumnType.Vector(ItemKind.Float32, 2)), (_o.PosteriorColumnName, ColumnType.VariableVector(ItemKind.Float32))],
        [("psi", ColumnType.Scalar(ItemKind.Float64))]);

    /// <summary>The input shape plus <c>psi</c>; a missing or mistyped <c>t</c> or posterior column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => MlColumns.OutputShape(inputSchema);

    /// <summary>Fits psi to the posteriors of <paramref name="input"/> (see the class summary for the columns read).</summary>
    public LogPartitionTransformer Fit(Ml.IDataView input) => FitTable(MlNetSide.Table(input, MlColumns, _o.SplitColumnName));

    /// <summary>Reads K and the box from the schema metadata; a missing or malformed key throws a <see cref="SchemaException"/>.</summary>
    public static (int K, ParameterBox Box) ReadGridMetadata(TableSchema schema, string component = Name)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!schema.Metadata.TryGetValue(GridKey, out var ks) || !int.TryParse(ks, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) || k < 2)
            throw new SchemaException($"{component}: schema metadata '{GridKey}' (grid side K >= 2, text) is missing or malformed", null, component);
        if (!schema.Metadata.TryGetValue(BoxKey, out var bs))
            throw new SchemaException($"{component}: schema metadata '{BoxKey}' (\"lo1,hi1,lo2,hi2\") is missing", null, component);
        var parts = bs.Split(',');
        var v = new double[4];
        if (parts.Length != 4 || parts.Select((p, i) => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])).Any(ok => !ok))
            throw new SchemaException($"{component}: schema metadata '{BoxKey}' = '{bs}' is not \"lo1,hi1,lo2,hi2\"", null, component);
        var box = new ParameterBox(v[0], v[1], v[2], v[3]);
        if (!box.IsProper) throw new SchemaException($"{component}: box {bs} has zero width", null, component);
        return (k, box);
    }

    private (int K, ParameterBox Box) Check(TableSchema schema)
    {
        // Names and item types are checked by MlColumns; what only the data knows is checked here.
        var (k, box) = ReadGridMetadata(schema);
        var posterior = schema[_o.PosteriorColumnName].Type;
        if (posterior.VectorLength != k * k)
            throw new SchemaException($"{Name}: input column '{_o.PosteriorColumnName}' has {posterior.VectorLength} items per row; grid {k} x {k} needs {k * k}",
                _o.PosteriorColumnName, Name);
        if (schema.TryGetColumn(_o.SplitColumnName, out var split) && split.Type != ColumnType.Scalar(ItemKind.Boolean))
            throw new SchemaException($"{Name}: input column '{_o.SplitColumnName}' must be Boolean but is {split.Type}", _o.SplitColumnName, Name);
        return (k, box);
    }

    internal LogPartitionTransformer FitTable(ColumnTable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (k, box) = Check(input.Schema);
        var tAll = input.GetColumn<float>(_o.ParameterColumnName).Span;
        var pAll = input.GetColumn<float>(_o.PosteriorColumnName).Span;
        var rows = Enumerable.Range(0, input.RowCount).ToList();
        if (input.Schema.Contains(_o.SplitColumnName))
        {
            var split = input.GetColumn<bool>(_o.SplitColumnName).ToArray();
            rows = _o.Rows switch
            {
                PsiRows.Training => rows.Where(r => !split[r]).ToList(),
                PsiRows.HeldOut => rows.Where(r => split[r]).ToList(),
                _ => rows,
            };
        }
        if (rows.Count == 0) throw new ArgumentException($"{Name}: no rows to fit on (Rows = {_o.Rows}, {input.RowCount} rows in the view)");
        int kk = k * k, n = rows.Count;
        var t = new double[2 * n];
        var p = new float[n * kk];
        for (int i = 0; i < n; i++)
        {
            int r = rows[i];
            (t[2 * i], t[2 * i + 1]) = (tAll[2 * r], tAll[2 * r + 1]);
            pAll.Slice(r * kk, kk).CopyTo(p.AsSpan(i * kk, kk));
        }
        var psi = FitPsi(_o, box, k, t, p);
        return new LogPartitionTransformer(psi, k, _o.ParameterColumnName);
    }

    /// <summary>
    /// The fit itself, without a data view: <paramref name="t"/> is n x 2 (row-major), <paramref name="posteriors"/>
    /// n x K*K. Used by <see cref="Fit"/> and by the measurements.
    /// </summary>
    public static FittedPsi FitPsi(LogPartitionOptions options, ParameterBox box, int k, double[] t, float[] posteriors)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(box);
        options = options.Resolved();
        int n = t.Length / 2;
        if (posteriors.Length != n * k * k) throw new ArgumentException($"posteriors need {n} x {k * k} numbers, got {posteriors.Length}");
        var grid = box.CellCentres(k, k);
        if (options.Fit == PsiFit.LogPosteriorLeastSquares)
        {
            var sw = Stopwatch.StartNew();
            var phi = LogPosteriorLeastSquares.Solve(posteriors, n, grid);
            options.Progress?.Invoke($"{Name}: log-posterior least squares on {n} rows, {k}x{k} grid: {sw.Elapsed.TotalSeconds:F2} s");
            return FitGridValues(options, box, grid, phi);
        }
        return options.Parametrisation switch
        {
            PsiParametrisation.BSpline => FitSplineJsd(options, box, grid, t, posteriors),
            PsiParametrisation.LogSumExp => ProjectJsdSpline(options, box, k, t, posteriors),
            _ => FitMlpJsd(options, box, grid, t, posteriors),
        };
    }

    /// <summary>
    /// psi through values at points (<paramref name="grid"/> is n x 2 flattened), as the log-posterior least-squares fit
    /// puts it through its grid values: a penalised least-squares spline (<see cref="PsiParametrisation.BSpline"/>) or a
    /// log-sum-exp (<see cref="PsiParametrisation.LogSumExp"/>). Also how the end-to-end run's grid floor is computed.
    /// </summary>
    public static FittedPsi FitGridValues(LogPartitionOptions options, ParameterBox box, double[] grid, double[] values)
    {
        ArgumentNullException.ThrowIfNull(options);
        switch (options.EffectiveParametrisation)
        {
            case PsiParametrisation.BSpline:
                return new SplinePsi(SplineLeastSquares(box, options.SplineCount, grid, values, options.Smoothness));
            case PsiParametrisation.LogSumExp:
                var psi = LogSumExpFit.Fit(box, grid, values, options.LogSumExpSettings, out var r);
                options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{Name}: log-sum-exp psi, {psi.Count} terms, scale {r.Scale:G4}, rms {r.Rms:G4} of the values, {r.Iterations} Gauss-Newton steps: {r.Seconds:F1} s"));
                return psi;
            default:
                throw new ArgumentException($"{Name}: psi through grid values needs Parametrisation = BSpline or LogSumExp, got {options.Parametrisation}");
        }
    }

    /// <summary>
    /// Least-squares spline through values at points (grid is K x 2 flattened), with a third-difference penalty on the
    /// coefficients of weight <paramref name="smoothness"/> relative to the mean diagonal of the normal equations (see
    /// <see cref="LogPartitionOptions.Smoothness"/>); it also keeps basis functions barely touched by the points determined.
    /// </summary>
    public static TensorBSpline SplineLeastSquares(ParameterBox box, int count, double[] grid, double[] values, double smoothness)
    {
        var spline = new TensorBSpline(box, count, count);
        int c = spline.CoefficientCount, m = values.Length;
        var a = new double[c * c];
        var rhs = new double[c];
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[16 * 6];
        for (int i = 0; i < m; i++)
        {
            spline.BasisRow(grid[2 * i], grid[2 * i + 1], idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int r = 0; r < 16; r++)
            {
                rhs[idx[r]] += w[r] * values[i];
                for (int s = 0; s < 16; s++) a[idx[r] * c + idx[s]] += w[r] * w[s];
            }
        }
        double trace = 0;
        for (int i = 0; i < c; i++) trace += a[i * c + i];
        double lambda = smoothness * trace / c;
        // Third differences along each axis: D^T D added with weight lambda. WHY third, not second: quadratics (constant
        // curvature) pass unpenalised, so a smooth psi's Hessian is not biased; only cell-to-cell wiggles of the
        // curvature are damped.
        void Penalise(int i0, int i1, int i2, int i3)
        {
            int[] ix = [i0, i1, i2, i3];
            double[] d = [-1, 3, -3, 1];
            for (int r = 0; r < 4; r++)
                for (int s = 0; s < 4; s++) a[ix[r] * c + ix[s]] += lambda * d[r] * d[s];
        }
        for (int i = 0; i < count; i++)
            for (int j = 0; j + 3 < count; j++)
            {
                Penalise(i * count + j, i * count + j + 1, i * count + j + 2, i * count + j + 3);
                Penalise(j * count + i, (j + 1) * count + i, (j + 2) * count + i, (j + 3) * count + i);
            }
        for (int i = 0; i < c; i++) a[i * c + i] += 1e-12 * trace / c;
        CholeskySolve(a, rhs, c);
        rhs.CopyTo(spline.Coefficients, 0);
        return spline;
    }

    private static void CholeskySolve(double[] a, double[] b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 0)) throw new InvalidOperationException("spline least squares: matrix not positive definite");
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
                a[i * n + j] = s / d;
            }
        }
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= a[i * n + k] * b[k];
            b[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
            b[i] = s / a[i * n + i];
        }
    }

    /// <summary>
    /// Cosine decay from the learning rate to 1/20 of it: large early steps reach the scale of N psi quickly, small late
    /// steps average out minibatch noise (measured: constant-rate Adam stalls at a visibly worse metric error).
    /// </summary>
    private static double Schedule(LogPartitionOptions o, int step, int total) =>
        LearningRateSchedule.Cosine(o.EffectiveLearningRate, step, total);

    /// <summary>About 20 progress lines per fit whatever the epoch count (a line per epoch floods a terminal at 100 epochs).</summary>
    private static void Report(LogPartitionOptions o, int epoch, int epochs, double loss, Stopwatch sw)
    {
        if (o.Progress is not null && ((epoch + 1) % Math.Max(1, epochs / 20) == 0 || epoch + 1 == epochs))
            o.Progress(string.Create(CultureInfo.InvariantCulture, $"{Name}: epoch {epoch + 1}/{epochs} JSD {loss:F5} ({sw.Elapsed.TotalSeconds:F1} s)"));
    }

    private static int[] Order(SplitMix64 rng, int n)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static FittedPsi FitMlpJsd(LogPartitionOptions o, ParameterBox box, double[] grid, double[] t, float[] p)
    {
        int n = t.Length / 2, kk = grid.Length / 2;
        var activation = o.Parametrisation == PsiParametrisation.PaperMlp ? ActivationKind.Relu : o.SmoothActivation;
        var net = Mlp.Create<float>(2, o.Hidden, o.Depth, 1, activation, layerNorm: true, o.Seed);
        // On a device the network, the grid and Adam's moments stay there for the whole fit; each step uploads its
        // minibatch and reads back its loss.
        var device = DeviceAccelerator.For(o.Device);
        net.MoveTo(device);
        var f = MlpPsi.Function(net, box);
        var gridT = Tensor<float>.FromArray(Array.ConvertAll(grid, x => (float)x), kk, 2).To(device);
        var adam = new Adam<float>(net.Parameters(), o.EffectiveLearningRate);
        var rng = new SplitMix64(o.Seed ^ 0x9E3779B97F4A7C15UL);
        var sw = Stopwatch.StartNew();
        int epochs = o.EffectiveEpochs, step = 0, totalSteps = epochs * ((n + o.BatchSize - 1) / o.BatchSize);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Order(rng, n);
            double total = 0;
            int batches = 0;
            for (int start = 0; start < n; start += o.BatchSize)
            {
                int b = Math.Min(o.BatchSize, n - start);
                var tb = new float[2 * b];
                var pb = new float[b * kk];
                for (int i = 0; i < b; i++)
                {
                    int r = order[start + i];
                    (tb[2 * i], tb[2 * i + 1]) = ((float)t[2 * r], (float)t[2 * r + 1]);
                    p.AsSpan(r * kk, kk).CopyTo(pb.AsSpan(i * kk, kk));
                }
                adam.LearningRate = Schedule(o, step++, totalSteps);
                adam.ZeroGrad();
                var loss = BregmanJsdLoss.Compute(f, gridT, Tensor<float>.FromArray(tb, b, 2).To(device), Tensor<float>.FromArray(pb, b, kk).To(device));
                loss.Backward();
                adam.Step();
                total += loss.Value.ToHost().Data[0];
                batches++;
            }
            Report(o, epoch, epochs, total / batches, sw);
        }
        net.MoveTo(null);
        return new MlpPsi(box, o.Parametrisation, o.Hidden, o.Depth, activation, true, net);
    }

    /// <summary>
    /// JSD with a log-sum-exp psi: the spline is fitted by JSD (linear in its coefficients, no double backward), and the
    /// log-sum-exp goes through its values on the 2K x 2K grid, its convex projection. WHY the finer grid: through K x K
    /// values alone a log-sum-exp can take a small scale and pass every value on a plane of its own, flat in between
    /// (measured on a 6 x 6 image run: positive definite at 4 of 36 cells); the spline is known everywhere, so the
    /// points between the cells hold the blend.
    /// </summary>
    private static FittedPsi ProjectJsdSpline(LogPartitionOptions options, ParameterBox box, int k, double[] t, float[] posteriors)
    {
        var spline = FitSplineJsd(options.With(PsiParametrisation.BSpline), box, box.CellCentres(k, k), t, posteriors);
        var fine = box.CellCentres(2 * k, 2 * k);
        var values = spline.Evaluate(Column(fine, 0), Column(fine, 1)).Psi;
        return FitGridValues(options, box, fine, values);
    }

    private static double[] Column(double[] pairs, int c) => Enumerable.Range(0, pairs.Length / 2).Select(i => pairs[2 * i + c]).ToArray();

    /// <summary>
    /// JSD fit of a spline psi: psi(grid) = Bg c and grad psi(t_i) = [B1(t_i) c, B2(t_i) c] are linear in the
    /// coefficients c, so the logits are two constant-matrix products and no double backward is needed.
    /// </summary>
    private static FittedPsi FitSplineJsd(LogPartitionOptions o, ParameterBox box, double[] grid, double[] t, float[] p)
    {
        int n = t.Length / 2, kk = grid.Length / 2;
        var spline = new TensorBSpline(box, o.SplineCount, o.SplineCount);
        int cc = spline.CoefficientCount;
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[16 * 6];
        var bg = new double[kk * cc];
        for (int i = 0; i < kk; i++)
        {
            spline.BasisRow(grid[2 * i], grid[2 * i + 1], idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int r = 0; r < 16; r++) bg[i * cc + idx[r]] += w[r];
        }
        // Gradient rows for every training t: row 2i = d/dt1 basis, 2i + 1 = d/dt2 basis (dense; C is a few hundred).
        var bd = new double[2 * n * cc];
        for (int i = 0; i < n; i++)
        {
            spline.BasisRow(t[2 * i], t[2 * i + 1], idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int r = 0; r < 16; r++)
            {
                bd[(2 * i) * cc + idx[r]] += w[16 + r];
                bd[(2 * i + 1) * cc + idx[r]] += w[32 + r];
            }
        }
        var bgVar = Var<double>.Constant(Tensor<double>.FromArray(bg, kk, cc));
        var gridVar = Var<double>.Constant(Tensor<double>.FromArray([.. grid], kk, 2));
        var c = Var<double>.Parameter(Tensor<double>.Zeros(cc, 1), "coefficients");
        var adam = new Adam<double>([c], o.EffectiveLearningRate);
        var rng = new SplitMix64(o.Seed ^ 0x9E3779B97F4A7C15UL);
        var sw = Stopwatch.StartNew();
        int epochs = o.EffectiveEpochs, step = 0, totalSteps = epochs * ((n + o.BatchSize - 1) / o.BatchSize);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Order(rng, n);
            double total = 0;
            int batches = 0;
            for (int start = 0; start < n; start += o.BatchSize)
            {
                int b = Math.Min(o.BatchSize, n - start);
                var db = new double[2 * b * cc];
                var pb = new double[b * kk];
                for (int i = 0; i < b; i++)
                {
                    int r = order[start + i];
                    bd.AsSpan(2 * r * cc, 2 * cc).CopyTo(db.AsSpan(2 * i * cc, 2 * cc));
                    for (int j = 0; j < kk; j++) pb[i * kk + j] = p[r * kk + j];
                }
                adam.LearningRate = Schedule(o, step++, totalSteps);
                adam.ZeroGrad();
                var gradT = Ops.Reshape(Ops.MatMul(Var<double>.Constant(Tensor<double>.FromArray(db, 2 * b, cc)), c), b, 2);
                var psiGrid = Ops.Reshape(Ops.MatMul(bgVar, c), 1, kk);
                var logits = Ops.MatMul(gradT, gridVar, transB: true) - psiGrid;
                var loss = BregmanJsdLoss.FromLogits(logits, Tensor<double>.FromArray(pb, b, kk));
                loss.Backward();
                adam.Step();
                total += loss.Value.Data[0];
                batches++;
            }
            Report(o, epoch, epochs, total / batches, sw);
        }
        c.Value.Data.CopyTo(spline.Coefficients, 0);
        return new SplinePsi(spline);
    }
}

/// <summary>
/// The fitted psi (kind "LogPartition"): <see cref="Evaluate"/> gives psi, grad psi and the metric at any points;
/// <see cref="Transform"/> adds a Float64 column <c>psi</c> at each row's <c>t</c>. The view it returns remembers
/// this transformer, which is how a following <see cref="FisherMetricEstimator"/> in a chain finds psi.
/// </summary>
public sealed class LogPartitionTransformer : HessianTransformer
{
    public const string KindName = "LogPartition";

    // Views produced by Transform -> the transformer that produced them. WHY: EstimatorChain fits the next step on
    // this step's output view only; FisherMetric needs the fitted psi itself, and a weak table keyed by the view
    // passes it without a side channel in the data (and without keeping views alive).
    private static readonly ConditionalWeakTable<object, LogPartitionTransformer> Produced = new();

    public LogPartitionTransformer(FittedPsi psi, int grid, string parameterColumnName = "t")
    {
        Psi = psi ?? throw new ArgumentNullException(nameof(psi));
        Grid = grid;
        ParameterColumnName = parameterColumnName;
    }

    public FittedPsi Psi { get; }

    /// <summary>The posterior grid side K it was fitted on.</summary>
    public int Grid { get; }

    public ParameterBox Box => Psi.Box;

    public string ParameterColumnName { get; }

    public override string Kind => KindName;

    /// <summary>psi, gradient and Hessian (exact) at the points.</summary>
    public MetricField Evaluate(double[] t1, double[] t2) => Psi.Evaluate(t1, t2);

    /// <summary>The field at the k x k cell centres of <paramref name="box"/>.</summary>
    public MetricField Field(ParameterBox box, int k) => Psi.Field(box, k);

    /// <summary>
    /// The fitted psi inside a model (a fitted chain, or one loaded with <c>mlContext.Model.Load</c>): its last FisherMetric,
    /// LogPartition or Geodesic component. Throws an <see cref="ArgumentException"/> naming the components when there is none.
    /// </summary>
    public static LogPartitionTransformer FindIn(Ml.ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parts = Pipeline.MlNet.SavedForm.Components(model, row =>
            row == typeof(FisherMetricOutputRow) || row == typeof(LogPartitionOutputRow) || row == typeof(Pipeline.MlNet.GeodesicOutputRow));
        for (int i = parts.Count - 1; i >= 0; i--)
        {
            if (parts[i] is FisherMetricTransformer f) return f.LogPartition;
            if (parts[i] is LogPartitionTransformer l) return l;
            if (parts[i] is Geodesics.GeodesicTransformer g) return g.LogPartition;
        }
        throw new ArgumentException(
            $"the model has no LogPartition or FisherMetric component ({string.Join(" -> ", parts.Select(p => (p as IComponentWithState)?.Kind ?? p.GetType().Name.Split('`')[0]))})");
    }

    /// <summary>
    /// The psi a psi-consuming estimator (FisherMetric, Geodesic) fits with: the one it was given, else the one that
    /// produced <paramref name="view"/> in a chain; otherwise an error saying how to supply it.
    /// </summary>
    internal static LogPartitionTransformer Require(LogPartitionTransformer? given, object view, string component, string catalogCall) =>
        given ?? ProducerOf(view) ?? throw new InvalidOperationException(
            $"{component}: no fitted psi: append it right after mlContext.Hessian().LogPartition(...) in a chain, or pass the fitted " +
            $"LogPartitionTransformer to {catalogCall}");

    internal static LogPartitionTransformer? ProducerOf(object view) => Produced.TryGetValue(view, out var t) ? t : null;


    internal static (double[] T1, double[] T2) ReadT(ColumnTable input, string column)
    {
        var t = input.GetColumn<float>(column).Span;
        int n = input.RowCount;
        var t1 = new double[n];
        var t2 = new double[n];
        for (int i = 0; i < n; i++) (t1[i], t2[i]) = (t[2 * i], t[2 * i + 1]);
        return (t1, t2);
    }

    internal override ColumnTable TransformTable(ColumnTable input)
    {
        var (t1, t2) = ReadT(input, ParameterColumnName);
        return input.WithColumn("psi", ColumnType.Scalar(ItemKind.Float64), Evaluate(t1, t2).Psi);
    }

    internal sealed record Saved(FittedPsi.SavedPsi Psi, int Grid, string ParameterColumnName);

    // ---- ML.NET: batch Transform, saved form for rows and zips ----

    private protected override ComponentColumns Columns => new(KindName, [(ParameterColumnName, ColumnType.Vector(ItemKind.Float32, 2))],
        [("psi", ColumnType.Scalar(ItemKind.Float64))]);

    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, Columns.Inputs, [(ParameterColumnName, "t")],
        t => new LogPartitionMappingFactory().Estimator(t, LogPartitionMappingFactory.Contract));

    /// <summary>Adds <c>psi</c> at each row's <c>t</c> (computed in one batch); the view it returns carries this psi to a following FisherMetric or Geodesic step.</summary>
    public override Ml.IDataView Transform(Ml.IDataView input)
    {
        var output = base.Transform(input);
        Produced.AddOrUpdate(output, this);
        return output;
    }

    public override void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Saved(Psi.Describe(), Grid, ParameterColumnName));
        Psi.Save(context, "psi.");
    }

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context)
    {
        var s = context.GetOptions<Saved>();
        return new LogPartitionTransformer(FittedPsi.Load(context, s.Psi, "psi."), s.Grid, s.ParameterColumnName);
    }
}
