using HessianML.Onnx;

namespace HessianML.Tests.Onnx;

/// <summary>
/// Models written by <see cref="OnnxModelBuilder"/>, run by the real ONNX Runtime (the Microsoft.ML.OnnxRuntime
/// package, as for users) through <see cref="OnnxRuntimeEngine"/>, checked against the same networks computed here in
/// double precision.
/// </summary>
[TestClass]
public sealed class OnnxRuntimeTests
{
    private static OnnxRuntimeEngine _engine = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static void ClassInit(TestContext context)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        _engine = new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 4 }); // errors come back as exceptions; keep test logs clean
        context.WriteLine($"{_engine.Description}, ready in {started.Elapsed.TotalSeconds:F2} s");
    }

    [ClassCleanup]
    public static void ClassCleanup() => _engine?.Dispose();

    // ---- the networks, built and computed by hand --------------------------------------------------------------------

    private static float[] Random(Random rng, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    private sealed record Mlp(float[] W1, float[] B1, float[] W2, float[] B2)
    {
        public const int In = 4, Hidden = 8, Out = 3;

        public static Mlp Random(int seed)
        {
            var rng = new Random(seed);
            return new(OnnxRuntimeTests.Random(rng, Hidden * In), OnnxRuntimeTests.Random(rng, Hidden),
                OnnxRuntimeTests.Random(rng, Hidden * Out), OnnxRuntimeTests.Random(rng, Out));
        }

        /// <summary>x [batch, 4] -> Gemm(W1 [8, 4], transB) + b1 -> Relu -> MatMul W2 [8, 3] -> Add b2 -> y [batch, 3].</summary>
        public byte[] ToOnnx()
        {
            var b = new OnnxModelBuilder("mlp");
            var x = b.AddInput("x", "batch", In);
            var h = b.Relu(b.Gemm(x, b.AddInitializer("W1", W1, Hidden, In), b.AddInitializer("b1", B1, Hidden), transB: true));
            b.Add(b.MatMul(h, b.AddInitializer("W2", W2, Hidden, Out)), b.AddInitializer("b2", B2, Out), output: "y");
            b.AddOutput("y", "batch", Out);
            return b.ToBytes();
        }

        public double[] Compute(float[] x, int batch)
        {
            var y = new double[batch * Out];
            for (int n = 0; n < batch; n++)
            {
                var h = new double[Hidden];
                for (int j = 0; j < Hidden; j++)
                {
                    double s = B1[j];
                    for (int i = 0; i < In; i++) s += (double)x[n * In + i] * W1[j * In + i];
                    h[j] = Math.Max(0, s);
                }
                for (int k = 0; k < Out; k++)
                {
                    double s = B2[k];
                    for (int j = 0; j < Hidden; j++) s += h[j] * W2[j * Out + k];
                    y[n * Out + k] = s;
                }
            }
            return y;
        }
    }

    /// <summary>
    /// A tiny image encoder on NCHW input: Conv 3 -> 4 channels, 3x3, stride 2, pad 1, with bias -> Relu ->
    /// GlobalAveragePool -> Flatten -> Gemm to a 6-vector.
    /// </summary>
    private sealed record Encoder(float[] K, float[] Kb, float[] W, float[] Wb)
    {
        public const int C = 3, H = 8, Wd = 8, M = 4, Kh = 3, Stride = 2, Pad = 1, Emb = 6;
        public const int Ho = (H + 2 * Pad - Kh) / Stride + 1, Wo = (Wd + 2 * Pad - Kh) / Stride + 1;

        public static Encoder Random(int seed)
        {
            var rng = new Random(seed);
            return new(OnnxRuntimeTests.Random(rng, M * C * Kh * Kh), OnnxRuntimeTests.Random(rng, M),
                OnnxRuntimeTests.Random(rng, Emb * M), OnnxRuntimeTests.Random(rng, Emb));
        }

        public byte[] ToOnnx()
        {
            var b = new OnnxModelBuilder("tiny_image_encoder");
            var x = b.AddInput("pixel_values", "batch", C, H, Wd);
            var conv = b.Conv(x, b.AddInitializer("conv.weight", K, M, C, Kh, Kh), b.AddInitializer("conv.bias", Kb, M),
                kernelShape: [Kh, Kh], strides: [Stride, Stride], pads: [Pad, Pad, Pad, Pad]);
            var pooled = b.Flatten(b.GlobalAveragePool(b.Relu(conv)));
            b.Gemm(pooled, b.AddInitializer("proj.weight", W, Emb, M), b.AddInitializer("proj.bias", Wb, Emb), transB: true,
                output: "embedding");
            b.AddOutput("embedding", "batch", Emb);
            return b.ToBytes();
        }

        public double[] Compute(float[] x, int batch)
        {
            var y = new double[batch * Emb];
            for (int n = 0; n < batch; n++)
            {
                var pooled = new double[M];
                for (int m = 0; m < M; m++)
                {
                    double sum = 0;
                    for (int oy = 0; oy < Ho; oy++)
                        for (int ox = 0; ox < Wo; ox++)
                        {
                            double s = Kb[m];
                            for (int c = 0; c < C; c++)
                                for (int ky = 0; ky < Kh; ky++)
                                    for (int kx = 0; kx < Kh; kx++)
                                    {
                                        int iy = oy * Stride - Pad + ky, ix = ox * Stride - Pad + kx;
                                        if (iy < 0 || iy >= H || ix < 0 || ix >= Wd) continue;
                                        s += (double)x[((n * C + c) * H + iy) * Wd + ix] * K[((m * C + c) * Kh + ky) * Kh + kx];
                                    }
                            sum += Math.Max(0, s);
                        }
                    pooled[m] = sum / (Ho * Wo);
                }
                for (int e = 0; e < Emb; e++)
                {
                    double s = Wb[e];
                    for (int m = 0; m < M; m++) s += pooled[m] * W[e * M + m];
                    y[n * Emb + e] = s;
                }
            }
            return y;
        }
    }

    private static double MaxAbsError(float[] actual, double[] expected)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    // ---- tests -----------------------------------------------------------------------------------------------------

    [TestMethod]
    public void Onnx_Runtime_IsThePackagesOwnBuild()
    {
        // The runtime library the package ships matches its managed API (both 1.32.0 today).
        var managed = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version!;
        Assert.AreEqual(managed.ToString(3), _engine.Version);
        StringAssert.Contains(_engine.Description, _engine.Version);
        CollectionAssert.Contains(_engine.AvailableProviders.ToArray(), "CPUExecutionProvider");
    }

    [TestMethod]
    public void Onnx_Runtime_MlpMatchesOurComputation()
    {
        var mlp = Mlp.Random(1);
        using var session = _engine.CreateSession(mlp.ToOnnx());
        const int batch = 5;
        var x = Random(new Random(2), batch * Mlp.In, 2);
        var y = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new(x, batch, Mlp.In) });
        Assert.AreEqual(1, y.Count);
        CollectionAssert.AreEqual(new long[] { batch, Mlp.Out }, y["y"].Shape.ToArray());
        double err = MaxAbsError(y["y"].Data, mlp.Compute(x, batch));
        TestContext.WriteLine($"MLP max |ORT - ours| = {err:E2}");
        Assert.IsLessThan(1e-5, err);

        // Another batch size through the same session: the batch dimension is symbolic.
        var x1 = Random(new Random(3), 1 * Mlp.In, 2);
        var y1 = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new(x1, 1, Mlp.In) });
        Assert.IsLessThan(1e-5, MaxAbsError(y1["y"].Data, mlp.Compute(x1, 1)));
    }

    [TestMethod]
    public void Onnx_Runtime_TinyImageEncoderMatchesOurComputation()
    {
        var encoder = Encoder.Random(4);
        string path = Path.Combine(Path.GetTempPath(), $"hessianml-encoder-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, encoder.ToOnnx());
            using var session = _engine.CreateSession(path); // from a file this time
            const int batch = 3;
            var x = Random(new Random(5), batch * Encoder.C * Encoder.H * Encoder.Wd);
            var y = session.Run(new Dictionary<string, OnnxTensor>
            {
                ["pixel_values"] = new(x, batch, Encoder.C, Encoder.H, Encoder.Wd),
            });
            CollectionAssert.AreEqual(new long[] { batch, Encoder.Emb }, y["embedding"].Shape.ToArray());
            double err = MaxAbsError(y["embedding"].Data, encoder.Compute(x, batch));
            TestContext.WriteLine($"encoder max |ORT - ours| = {err:E2}");
            Assert.IsLessThan(1e-5, err);
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void Onnx_Runtime_ReportsNamesShapesAndTypes()
    {
        using var session = _engine.CreateSession(Encoder.Random(1).ToOnnx());
        Assert.AreEqual(1, session.Inputs.Count);
        var input = session.Inputs[0];
        Assert.AreEqual("pixel_values", input.Name);
        Assert.AreEqual(OnnxElementType.Float, input.ElementType);
        CollectionAssert.AreEqual(new long[] { -1, 3, 8, 8 }, input.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { "batch", null, null, null }, input.SymbolicDimensions.ToArray());
        Assert.AreEqual("pixel_values: Float[batch, 3, 8, 8]", input.ToString());
        var output = session.Outputs.Single();
        Assert.AreEqual("embedding", output.Name);
        Assert.AreEqual(OnnxElementType.Float, output.ElementType);
        CollectionAssert.AreEqual(new long[] { -1, 6 }, output.Shape.ToArray());
        Assert.AreEqual("CPUExecutionProvider", session.ExecutionProvider);
    }

    [TestMethod]
    public void Onnx_Runtime_ErrorsSurfaceWithOrtsCodeAndMessageOnOneLineNamingTheModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hessianml-mlp-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Mlp.Random(1).ToOnnx());
        try
        {
            using var session = _engine.CreateSession(path);
            var wrongName = Assert.ThrowsExactly<OnnxRuntimeException>(() =>
                session.Run(new Dictionary<string, OnnxTensor> { ["x_typo"] = OnnxTensor.Zeros(2, Mlp.In) }));
            Assert.AreEqual(OrtErrorCode.InvalidArgument, wrongName.ErrorCode);
            StringAssert.Contains(wrongName.OrtMessage, "x_typo");
            StringAssert.Contains(wrongName.Message, $"model '{path}'");
            Assert.IsInstanceOfType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(wrongName.InnerException);
            TestContext.WriteLine(wrongName.Message);

            // ORT writes this one over three lines; ours is one.
            var wrongShape = Assert.ThrowsExactly<OnnxRuntimeException>(() =>
                session.Run(new Dictionary<string, OnnxTensor> { ["x"] = OnnxTensor.Zeros(2, Mlp.In + 1) }));
            Assert.AreEqual(OrtErrorCode.InvalidArgument, wrongShape.ErrorCode);
            StringAssert.Contains(wrongShape.OrtMessage, "dimensions");
            StringAssert.StartsWith(wrongShape.Message, $"ONNX Runtime error InvalidArgument (model '{path}'): ");
            Assert.IsFalse(wrongShape.Message.Contains('\n'));
            TestContext.WriteLine(wrongShape.Message);

            var wrongOutput = Assert.ThrowsExactly<OnnxRuntimeException>(() =>
                session.Run(new Dictionary<string, OnnxTensor> { ["x"] = OnnxTensor.Zeros(2, Mlp.In) }, ["nope"]));
            StringAssert.Contains(wrongOutput.OrtMessage, "nope");

            // The session still works after the failures.
            var ok = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = OnnxTensor.Zeros(2, Mlp.In) });
            Assert.AreEqual(2 * Mlp.Out, ok["y"].Data.Length);
        }
        finally { File.Delete(path); }

        var notAModel = Assert.ThrowsExactly<OnnxRuntimeException>(() => _engine.CreateSession("not a model"u8));
        Assert.AreEqual(OrtErrorCode.InvalidProtobuf, notAModel.ErrorCode);
        StringAssert.Contains(notAModel.Message, "in-memory model (11 bytes)");
        TestContext.WriteLine(notAModel.Message);

        var noFile = Assert.ThrowsExactly<OnnxRuntimeException>(() => _engine.CreateSession("/nonexistent/model.onnx"));
        Assert.AreEqual(OrtErrorCode.NoSuchFile, noFile.ErrorCode);
        StringAssert.Contains(noFile.Message, "model '/nonexistent/model.onnx'");
        TestContext.WriteLine(noFile.Message);
    }

    [TestMethod]
    public void Onnx_Runtime_ThreadCountsAreHonoured()
    {
        var mlp = Mlp.Random(7);
        var x = Random(new Random(8), 64 * Mlp.In);
        var inputs = new Dictionary<string, OnnxTensor> { ["x"] = new(x, 64, Mlp.In) };
        using var one = _engine.CreateSession(mlp.ToOnnx(), new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 });
        using var two = _engine.CreateSession(mlp.ToOnnx(), new OnnxSessionOptions
        {
            IntraOpThreads = 2, InterOpThreads = 2, GraphOptimization = OnnxGraphOptimization.Disabled,
        });
        var expected = mlp.Compute(x, 64);
        Assert.IsLessThan(1e-5, MaxAbsError(one.Run(inputs)["y"].Data, expected));
        Assert.IsLessThan(1e-5, MaxAbsError(two.Run(inputs)["y"].Data, expected));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            _engine.CreateSession(mlp.ToOnnx(), new OnnxSessionOptions { IntraOpThreads = -1 }));
    }

    [TestMethod]
    public void Onnx_Runtime_CudaIsOptionalAndSaysWhyNot()
    {
        bool available = _engine.IsCudaAvailable(out string? reason);
        TestContext.WriteLine(available ? "CUDA available" : $"CUDA unavailable: {reason}");
        using var session = _engine.CreateSession(Mlp.Random(1).ToOnnx(), new OnnxSessionOptions { Cuda = OnnxCudaUse.IfAvailable });
        if (available)
        {
            Assert.AreEqual("CUDAExecutionProvider", session.ExecutionProvider);
            return;
        }
        Assert.IsFalse(string.IsNullOrWhiteSpace(reason));
        Assert.AreEqual("CPUExecutionProvider", session.ExecutionProvider);
        Assert.AreEqual(reason, session.CudaUnavailableReason);
        var required = Assert.ThrowsExactly<OnnxRuntimeException>(() =>
            _engine.CreateSession(Mlp.Random(1).ToOnnx(), new OnnxSessionOptions { Cuda = OnnxCudaUse.Required }));
        Assert.AreEqual(OrtErrorCode.ExecutionProviderFail, required.ErrorCode);
        Assert.IsFalse(required.Message.Contains('\n'));
    }

    [TestMethod]
    public void Onnx_Runtime_ASessionOutlivesItsEngine()
    {
        var mlp = Mlp.Random(9);
        var engine = new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 4 });
        var session = engine.CreateSession(mlp.ToOnnx());
        engine.Dispose();
        var x = Random(new Random(10), 2 * Mlp.In);
        var y = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new(x, 2, Mlp.In) });
        Assert.IsLessThan(1e-5, MaxAbsError(y["y"].Data, mlp.Compute(x, 2)));
        session.Dispose();
        session.Dispose(); // twice is harmless
        Assert.ThrowsExactly<ObjectDisposedException>(() => session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new(x, 2, Mlp.In) }));
        Assert.ThrowsExactly<ObjectDisposedException>(() => engine.CreateSession(mlp.ToOnnx()));
    }

    [TestMethod]
    public void Onnx_Runtime_OneSessionRunsBigBatchesFromSeveralThreadsAtOnce()
    {
        var mlp = Mlp.Random(11);
        using var session = _engine.CreateSession(mlp.ToOnnx());
        const int batch = 4096;
        var errors = new double[8];
        Parallel.For(0, errors.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var x = Random(new Random(100 + k), batch * Mlp.In, 2);
            var y = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new(x, batch, Mlp.In) })["y"];
            CollectionAssert.AreEqual(new long[] { batch, Mlp.Out }, y.Shape.ToArray());
            errors[k] = MaxAbsError(y.Data, mlp.Compute(x, batch));
        });
        Assert.IsLessThan(1e-5, errors.Max());
    }

    [TestMethod]
    public void Onnx_Runtime_RequestingSomeOutputsReturnsOnlyThose()
    {
        var b = new OnnxModelBuilder("two_outputs");
        var x = b.AddInput("x", "n");
        b.Relu(x, output: "relu");
        b.Neg(x);
        b.Tanh(x, output: "tanh");
        b.AddOutput("relu", "n");
        b.AddOutput("tanh", "n");
        using var session = _engine.CreateSession(b.ToBytes());
        CollectionAssert.AreEqual(new[] { "relu", "tanh" }, session.Outputs.Select(o => o.Name).ToArray());
        var result = session.Run(new Dictionary<string, OnnxTensor> { ["x"] = new([-1f, 0.5f], 2) }, ["tanh"]);
        Assert.AreEqual(1, result.Count);
        Assert.AreEqual(Math.Tanh(-1), result["tanh"].Data[0], 1e-6);
        Assert.AreEqual(Math.Tanh(0.5), result["tanh"].Data[1], 1e-6);
    }
}
