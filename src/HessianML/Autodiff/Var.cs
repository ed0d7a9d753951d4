using System.Numerics;
using HessianML.Tensors;

namespace HessianML.Autodiff;

/// <summary>Backward of a node as differentiable graph ops: used for double backward (createGraph).</summary>
internal delegate Var<T>?[] GraphBackward<T>(Var<T> grad, bool[] needs) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Backward of a node on raw tensors: the fast first-order path.</summary>
internal delegate Tensor<T>?[] FastBackward<T>(Tensor<T> grad, bool[] needs) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// A node of the autodiff tape: a value, the parents it was computed from and how to send a gradient back
/// to them. Leaves are parameters (<see cref="Parameter"/>, gradient wanted) or constants.
/// Every op node carries its backward as differentiable ops (so gradients can themselves be differentiated:
/// double backward, Hessians) and, for hot ops, a fused raw-tensor backward used when no graph is needed.
/// </summary>
public sealed class Var<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Value { get; }

    /// <summary>Accumulated gradient after <see cref="Backward()"/> (leaves only); null until then.</summary>
    public Tensor<T>? Grad { get; set; }

    /// <summary>Whether a gradient flows to this node (parameters, and ops with such an input while recording).</summary>
    public bool RequiresGrad { get; }

    /// <summary>Name of the op that produced it ("leaf" for leaves).</summary>
    public string Op { get; }

    public string? Name { get; set; }

    internal Var<T>[] Parents { get; }
    internal GraphBackward<T>? GraphBack { get; set; }
    internal FastBackward<T>? FastBack { get; set; }

    internal Var(Tensor<T> value, bool requiresGrad, string op, Var<T>[] parents)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        Op = op;
        Parents = parents;
    }

    public bool IsLeaf => Parents.Length == 0;
    public ReadOnlySpan<int> Shape => Value.Shape;
    public int Length => Value.Length;

    /// <summary>A leaf whose gradient is wanted.</summary>
    public static Var<T> Parameter(Tensor<T> value, string? name = null) => new(value, true, "leaf", []) { Name = name };

    /// <summary>A leaf treated as a constant.</summary>
    public static Var<T> Constant(Tensor<T> value) => new(value, false, "leaf", []);

    public static Var<T> Constant(T value) => Constant(Tensor<T>.Scalar(value));

    /// <summary>Back-propagates d(this)/d(leaf) into the leaves' <see cref="Grad"/> (accumulating). Needs a scalar.</summary>
    public void Backward() => Autograd.Backward(this);

    public void Backward(Tensor<T> seed) => Autograd.Backward(this, seed);

    /// <summary>A constant with the same value: cuts the graph (PyTorch's detach).</summary>
    public Var<T> Detach() => Constant(Value);

    public override string ToString() => $"Var({Op}) {Value}";

    public static Var<T> operator +(Var<T> a, Var<T> b) => Ops.Add(a, b);
    public static Var<T> operator -(Var<T> a, Var<T> b) => Ops.Sub(a, b);
    public static Var<T> operator *(Var<T> a, Var<T> b) => Ops.Mul(a, b);
    public static Var<T> operator /(Var<T> a, Var<T> b) => Ops.Div(a, b);
    public static Var<T> operator -(Var<T> a) => Ops.Scale(a, -T.One);
    public static Var<T> operator *(Var<T> a, T c) => Ops.Scale(a, c);
    public static Var<T> operator *(T c, Var<T> a) => Ops.Scale(a, c);
    public static Var<T> operator +(Var<T> a, T c) => Ops.AddScalar(a, c);
    public static Var<T> operator -(Var<T> a, T c) => Ops.AddScalar(a, -c);
}

/// <summary>
/// Whether ops record the tape. Disabled inside <see cref="NoGrad"/> (inference, optimiser updates) so no
/// closures or parent links are kept.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static bool _disabled;

    public static bool Enabled => !_disabled;

    public static Scope NoGrad() => new(true);

    internal static Scope Enable() => new(false);

    /// <summary>Restores the previous mode on dispose.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _previous;
        internal Scope(bool disable) { _previous = _disabled; _disabled = disable; }
        public void Dispose() => _disabled = _previous;
    }
}
