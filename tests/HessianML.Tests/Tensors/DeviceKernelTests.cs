using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Compute;
using HessianML.Geometry;
using HessianML.Onnx;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Tests.Tensors;

/// <summary>
/// Every op the tape uses, run on ILGPU's CPU accelerator (the GPU engine's kernels, executed on the CPU) against the
/// CPU engine: value and gradients (a random output seed back-propagated to every input). Tolerance: a float result
/// that sums n products differs between two summation orders by at most about n ulps of the largest term (the
/// standard bound gamma_n = n eps), so each case names its longest sum (depth) and the check is
/// |device - cpu| &lt;= 4 eps (depth + 4) max(1, |cpu|max): 4 eps per step for the transcendental kernels' own rounding.
/// </summary>
[TestClass]
public class DeviceKernelTests
{
    private static readonly DeviceAccelerator Device = DeviceAccelerator.For(ComputeDevice.IlgpuCpu)!;

    private static Tensor<float> Random(int seed, double lo, double hi, params int[] shape) =>
        Tensor<float>.RandomUniform(new SplitMix64((ulong)seed), lo, hi, shape);

    private static void AssertClose(Tensor<float> cpu, Tensor<float> device, int depth, string what)
    {
        Assert.IsTrue(device.IsOnDevice, $"{what}: the device result is on the host");
        CollectionAssert.AreEqual(cpu.Shape.ToArray(), device.Shape.ToArray(), $"{what}: shape");
        var d = device.ToHost().Data;
        float scale = Math.Max(1f, cpu.Data.Length == 0 ? 0 : cpu.Data.Max(MathF.Abs));
        double tol = 4 * MathF.Pow(2, -23) * (depth + 4) * scale;
        for (int i = 0; i < d.Length; i++)
            Assert.IsTrue(Math.Abs(d[i] - cpu.Data[i]) <= tol,
                $"{what}[{i}]: device {d[i]} vs cpu {cpu.Data[i]} (tolerance {tol:G3})");
    }

    /// <summary>Runs f on host parameters and on their device copies; compares the value and every input's gradient.</summary>
    private static void Check(string name, int depth, Func<Var<float>[], Var<float>> f, params Tensor<float>[] inputs)
    {
        var host = inputs.Select(t => Var<float>.Parameter(t.Clone())).ToArray();
        var dev = inputs.Select(t => Var<float>.Parameter(t.ToDevice(Device))).ToArray();
        var yh = f(host);
        var yd = f(dev);
        AssertClose(yh.Value, yd.Value, depth, name + " value");
        var seed = Random(99, -1, 1, yh.Value.Shape.ToArray());
        yh.Backward(seed);
        yd.Backward(seed.ToDevice(Device));
        // A gradient sums over the output's elements that the input reaches: the output's length bounds that depth.
        int gradDepth = depth + yh.Value.Length;
        for (int i = 0; i < inputs.Length; i++)
            AssertClose(host[i].Grad!, dev[i].Grad!, gradDepth, $"{name} gradient of input {i}");
    }

    [TestMethod]
    [DataRow("add"), DataRow("sub"), DataRow("mul"), DataRow("div"), DataRow("scale"), DataRow("add_scalar"), DataRow("exp"),
     DataRow("log"), DataRow("square"), DataRow("sqrt"), DataRow("relu"), DataRow("sigmoid"), DataRow("tanh"), DataRow("softplus"),
     DataRow("silu"), DataRow("broadcast_to"), DataRow("sum_to_shape")]
    public void ElementwiseOpsAgreeWithTheCpuEngine(string op)
    {
        var a = Random(1, -2, 2, 3, 4, 5);
        var pos = Random(2, 0.5, 2, 3, 4, 5);
        var row = Random(3, -2, 2, 4, 1);
        Func<Var<float>[], Var<float>> f = op switch
        {
            "add" => v => Ops.Add(v[0], v[1]),
            "sub" => v => Ops.Sub(v[1], v[0]),
            "mul" => v => Ops.Mul(v[0], v[1]),
            "div" => v => Ops.Div(v[1], v[0]),
            "scale" => v => Ops.Scale(v[0], 1.7),
            "add_scalar" => v => Ops.AddScalar(v[0], -0.3),
            "exp" => v => Ops.Exp(v[0]),
            "log" => v => Ops.Log(v[0]),
            "square" => v => Ops.Square(v[0]),
            "sqrt" => v => Ops.Sqrt(v[0]),
            "relu" => v => Ops.Relu(v[0]),
            "sigmoid" => v => Ops.Sigmoid(v[0]),
            "tanh" => v => Ops.Tanh(v[0]),
            "softplus" => v => Ops.Softplus(v[0]),
            "silu" => v => Ops.Silu(v[0]),
            "broadcast_to" => v => Ops.BroadcastTo(v[0], [2, 3, 4, 5]),
            _ => v => Ops.SumToShape(v[0], [4, 1]),
        };
        bool positive = op is "log" or "sqrt" or "div";
        Tensor<float>[] inputs = op switch
        {
            "add" or "mul" => [a, row],
            "sub" or "div" => [pos, a],
            _ => [positive ? pos : a],
        };
        Check(op, 4, f, inputs);
    }

    [TestMethod]
    [DataRow("sum"), DataRow("sum_axis"), DataRow("mean_axis"), DataRow("softmax"), DataRow("log_softmax"), DataRow("logsumexp"),
     DataRow("softmax_log_likelihood"), DataRow("layer_norm"), DataRow("slice"), DataRow("concat")]
    public void ReductionsRowOpsAndShapeOpsAgreeWithTheCpuEngine(string op)
    {
        var a = Random(4, -3, 3, 6, 7);
        var b = Random(5, 0, 1, 6, 7);
        var gamma = Random(6, 0.5, 1.5, 7);
        var beta = Random(7, -1, 1, 7);
        switch (op)
        {
            case "sum": Check(op, 42, v => Ops.Sum(v[0]), a); break;
            case "sum_axis": Check(op, 7, v => Ops.Sum(v[0], 0), a); break;
            case "mean_axis": Check(op, 7, v => Ops.Mean(v[0], 1, keepDims: true), a); break;
            case "softmax": Check(op, 7, v => Ops.Softmax(v[0]), a); break;
            case "log_softmax": Check(op, 7, v => Ops.LogSoftmax(v[0]), a); break;
            case "logsumexp": Check(op, 7, v => Ops.LogSumExp(v[0]), a); break;
            case "softmax_log_likelihood": Check(op, 42, v => Ops.SoftmaxLogLikelihood(v[0], v[1]), a, b); break;
            case "layer_norm": Check(op, 7, v => Ops.LayerNorm(v[0], v[1], v[2]), a, gamma, beta); break;
            case "slice": Check(op, 1, v => Ops.Slice(v[0], 1, 2, 3), a); break;
            default: Check(op, 1, v => Ops.Concat([v[0], v[1], v[0]], 1), a, b); break;
        }
    }

    [TestMethod]
    [DataRow(false, false), DataRow(true, false), DataRow(false, true), DataRow(true, true)]
    public void MatMulAgreesWithTheCpuEngineForEveryTransposition(bool transA, bool transB)
    {
        var a = Random(8, -1, 1, transA ? [9, 5] : [5, 9]);
        var b = Random(9, -1, 1, transB ? [6, 9] : [9, 6]);
        Check("matmul", 9, v => Ops.MatMul(v[0], v[1], transA, transB), a, b);
    }

    [TestMethod]
    public void LinearAgreesWithTheCpuEngine() =>
        Check("linear", 11, v => Ops.Linear(v[0], v[1], v[2]), Random(10, -1, 1, 5, 11), Random(11, -1, 1, 4, 11), Random(12, -1, 1, 4));

    [TestMethod]
    [DataRow(1, 1, true), DataRow(2, 1, false), DataRow(1, 0, false)]
    public void Conv2dAgreesWithTheCpuEngine(int stride, int padding, bool circular)
    {
        var x = Random(13, -1, 1, 2, 3, 6, 5);
        var w = Random(14, -1, 1, 4, 3, 3, 3);
        var bias = Random(15, -1, 1, 4);
        Check("conv2d", 27, v => Ops.Conv2d(v[0], v[1], v[2], stride, padding, circular), x, w, bias);
    }

    [TestMethod]
    public void FusedCircularConvReluSumAgreesWithTheCpuEngine()
    {
        var x = Random(16, -1, 1, 3, 1, 5, 5);
        var w = Random(17, -1, 1, 4, 1, 3, 3);
        var bias = Random(18, -1, 1, 4);
        Check("conv2d_relu_sum", 9 * 25, v => Ops.Conv2dReluSum(v[0], v[1], v[2], padding: 1, circular: true), x, w, bias);
    }

    /// <summary>The psi loss differentiates grad_t psi (double backward through Linear, LayerNorm, ReLU, Softplus).</summary>
    [TestMethod]
    [DataRow(ActivationKind.Relu), DataRow(ActivationKind.Softplus)]
    public void BregmanJsdLossAndItsParameterGradientsAgreeWithTheCpuEngine(ActivationKind activation)
    {
        var host = Mlp.Create<float>(2, 8, 2, 1, activation, layerNorm: true, seed: 3);
        var dev = Mlp.Create<float>(2, 8, 2, 1, activation, layerNorm: true, seed: 3);
        dev.MoveTo(Device);
        var grid = Random(19, 0, 1, 9, 2);
        var t = Random(20, 0, 1, 4, 2);
        var target = Tensor<float>.FromArray(Random(21, 0.1, 1, 4, 9).Data, 4, 9);
        for (int r = 0; r < 4; r++)
        {
            float s = target.Row(r).ToArray().Sum();
            for (int c = 0; c < 9; c++) target[r, c] /= s;
        }
        var lh = BregmanJsdLoss.Compute<float>(host.Forward, grid, t, target);
        var ld = BregmanJsdLoss.Compute<float>(dev.Forward, grid.ToDevice(Device), t.ToDevice(Device), target.ToDevice(Device));
        // Depth: three layers of 8-wide sums, the 9-cell softmax, the batch mean, forward and backward.
        const int depth = 2 * (3 * 8 + 9 + 4);
        AssertClose(lh.Value, ld.Value, depth, "JSD");
        lh.Backward();
        ld.Backward();
        var hp = host.NamedParameterVars().ToList();
        var dp = dev.NamedParameterVars().ToList();
        for (int i = 0; i < hp.Count; i++) AssertClose(hp[i].Parameter.Grad!, dp[i].Parameter.Grad!, depth, hp[i].Name);
    }

    [TestMethod]
    public void AdamStepsAgreeWithTheCpuEngine()
    {
        var wh = Var<float>.Parameter(Random(22, -1, 1, 17));
        var wd = Var<float>.Parameter(wh.Value.ToDevice(Device));
        var ah = new Adam<float>([wh], lr: 0.05, weightDecay: 0.01);
        var ad = new Adam<float>([wd], lr: 0.05, weightDecay: 0.01);
        for (int step = 0; step < 5; step++)
        {
            var g = Random(30 + step, -1, 1, 17);
            wh.Grad = g;
            wd.Grad = g.ToDevice(Device);
            ah.Step();
            ad.Step();
        }
        AssertClose(wh.Value, wd.Value, 5, "Adam parameters");
    }

    [TestMethod]
    public void HostDataOfADeviceTensorIsRefusedNamingTheDevice()
    {
        var t = Tensor<float>.Ones(2, 3).ToDevice(Device);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => t.Data);
        StringAssert.Contains(e.Message, "ilgpu-cpu");
        var moved = Tensor<float>.Ones(4).ToDevice(Device);
        var e2 = Assert.ThrowsExactly<InvalidOperationException>(() => Ops.Add(Var<float>.Constant(Tensor<float>.Ones(2, 3)), Var<float>.Constant(t)));
        StringAssert.Contains(e2.Message, "ToDevice");
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 1 }, moved.ToHost().Data);
    }

    [TestMethod]
    public void AMissingCudaDeviceIsOneLineSayingWhatIsMissing()
    {
        // Any machine running the tests has fewer than 64 GPUs, so cuda:63 is missing wherever this runs.
        var e = Assert.ThrowsExactly<GpuUnavailableException>(() => DeviceAccelerator.For(ComputeDevice.Cuda(63)));
        StringAssert.Contains(e.Message, "cuda:63");
        Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }
}
