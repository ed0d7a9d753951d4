using System.Numerics;
using HessianML.Tensors;

namespace HessianML.Autodiff.Layers;

/// <summary>y = x Wᵀ + b, W [out, in]; PyTorch's default init U(-1/sqrt(in), 1/sqrt(in)) for W and b.</summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Var<T> Weight { get; }
    public Var<T>? Bias { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }

    public Linear(int inFeatures, int outFeatures, SplitMix64 rng, bool bias = true)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1.0 / Math.Sqrt(inFeatures);
        Weight = AddParameter("weight", Tensor<T>.RandomUniform(rng, -bound, bound, outFeatures, inFeatures));
        if (bias) Bias = AddParameter("bias", Tensor<T>.RandomUniform(rng, -bound, bound, outFeatures));
    }

    public override Var<T> Forward(Var<T> x) => Ops.Linear(x, Weight, Bias);
}

/// <summary>LayerNorm over the last axis with affine gamma (ones) and beta (zeros), eps 1e-5.</summary>
public sealed class LayerNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Var<T> Gamma { get; }
    public Var<T> Beta { get; }
    public double Eps { get; }

    public LayerNorm(int dim, double eps = 1e-5)
    {
        Eps = eps;
        Gamma = AddParameter("weight", Tensor<T>.Ones(dim));
        Beta = AddParameter("bias", Tensor<T>.Zeros(dim));
    }

    public override Var<T> Forward(Var<T> x) => Ops.LayerNorm(x, Gamma, Beta, Eps);
}

/// <summary>2-D convolution, NCHW, PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C*K*K.</summary>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Var<T> Weight { get; }
    public Var<T>? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }

    public Conv2d(int inChannels, int outChannels, int kernel, SplitMix64 rng, int stride = 1, int padding = 0, bool bias = true)
    {
        Stride = stride;
        Padding = padding;
        double bound = 1.0 / Math.Sqrt(inChannels * kernel * kernel);
        Weight = AddParameter("weight", Tensor<T>.RandomUniform(rng, -bound, bound, outChannels, inChannels, kernel, kernel));
        if (bias) Bias = AddParameter("bias", Tensor<T>.RandomUniform(rng, -bound, bound, outChannels));
    }

    public override Var<T> Forward(Var<T> x) => Ops.Conv2d(x, Weight, Bias, Stride, Padding);
}

/// <summary>Element-wise activations.</summary>
public enum ActivationKind { Relu, Softplus, Silu, Sigmoid, Tanh }

/// <summary>A parameter-free element-wise activation as a module.</summary>
public sealed class Activation<T>(ActivationKind kind) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public ActivationKind Kind { get; } = kind;

    public override Var<T> Forward(Var<T> x) => Apply(Kind, x);

    public static Var<T> Apply(ActivationKind kind, Var<T> x) => kind switch
    {
        ActivationKind.Relu => Ops.Relu(x),
        ActivationKind.Softplus => Ops.Softplus(x),
        ActivationKind.Silu => Ops.Silu(x),
        ActivationKind.Sigmoid => Ops.Sigmoid(x),
        ActivationKind.Tanh => Ops.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>Pooling as a module: max, average, or global average ([N,C,H,W] -> [N,C]).</summary>
public sealed class Pool2d<T>(Pool2d<T>.Kind kind, int kernel = 2, int stride = 0, int padding = 0) : Module<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public enum Kind { Max, Average, GlobalAverage }

    public override Var<T> Forward(Var<T> x) => kind switch
    {
        Kind.Max => Ops.MaxPool2d(x, kernel, stride, padding),
        Kind.Average => Ops.AvgPool2d(x, kernel, stride, padding),
        _ => Ops.GlobalAvgPool2d(x),
    };
}

/// <summary>Flattens all axes after the first: [N, ...] -> [N, prod(...)].</summary>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override Var<T> Forward(Var<T> x) => Ops.Reshape(x, x.Value.Shape[0], -1);
}

/// <summary>Applies its modules in order; children are named "0", "1", ... (PyTorch's nn.Sequential).</summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Module<T>> _layers = [];

    public Sequential(params Module<T>[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    public IReadOnlyList<Module<T>> Layers => _layers;

    public Sequential<T> Add(Module<T> layer)
    {
        AddModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public override Var<T> Forward(Var<T> x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}

/// <summary>Builds the paper's psi network shape.</summary>
public static class Mlp
{
    /// <summary>
    /// input -> depth x (Linear hidden, [LayerNorm], activation) -> Linear output, as a Sequential, initialised
    /// from one SplitMix64 stream seeded with seed (same seed, same weights everywhere).
    /// The paper's psi: Create(2, 512, 4, 1, ActivationKind.Relu, layerNorm: true, seed).
    /// </summary>
    public static Sequential<T> Create<T>(int input, int hidden, int depth, int output, ActivationKind activation, bool layerNorm, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SplitMix64(seed);
        var s = new Sequential<T>();
        int width = input;
        for (int i = 0; i < depth; i++)
        {
            s.Add(new Linear<T>(width, hidden, rng));
            if (layerNorm) s.Add(new LayerNorm<T>(hidden));
            s.Add(new Activation<T>(activation));
            width = hidden;
        }
        s.Add(new Linear<T>(width, output, rng));
        return s;
    }
}
