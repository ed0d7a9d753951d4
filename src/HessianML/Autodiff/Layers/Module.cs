using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Autodiff.Layers;

/// <summary>
/// Base of layers: named parameters (leaf Vars) and named sub-modules, PyTorch-style dotted names
/// ("0.weight", "2.bias") so a state can be saved to and loaded from model files.
/// </summary>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(string Name, Var<T> Param)> _parameters = [];
    private readonly List<(string Name, Module<T> Child)> _children = [];
    private readonly List<Var<T>> _constants = [];

    public abstract Var<T> Forward(Var<T> x);

    public Var<T> this[Var<T> x] => Forward(x);

    protected Var<T> AddParameter(string name, Tensor<T> value)
    {
        var p = Var<T>.Parameter(value, name);
        _parameters.Add((name, p));
        return p;
    }

    /// <summary>A constant tensor the forward pass uses (PyTorch's buffer): not trained or saved, but moved with the module.</summary>
    protected Var<T> AddConstant(Tensor<T> value)
    {
        var c = Var<T>.Constant(value);
        _constants.Add(c);
        return c;
    }

    /// <summary>Where the parameters live: null on the host, else the accelerator they were moved to.</summary>
    public DeviceAccelerator? Device => NamedParameterVars().Select(p => p.Parameter.Value.Device).FirstOrDefault();

    /// <summary>
    /// Moves every parameter and constant, in place, to <paramref name="device"/> (null: back to the host), dropping
    /// gradients. A fit moves its network once at the start and once at the end; optimiser state follows by itself.
    /// </summary>
    public void MoveTo(DeviceAccelerator? device)
    {
        foreach (var (_, p) in NamedParameterVars())
        {
            p.Value.MoveTo(device);
            p.Grad = null;
        }
        MoveConstants(device);
    }

    private void MoveConstants(DeviceAccelerator? device)
    {
        foreach (var c in _constants) c.Value.MoveTo(device);
        foreach (var (_, child) in _children) child.MoveConstants(device);
    }

    protected TModule AddModule<TModule>(string name, TModule module) where TModule : Module<T>
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Every parameter with its dotted name, in registration order (depth first).</summary>
    public IEnumerable<(string Name, Var<T> Parameter)> NamedParameterVars()
    {
        foreach (var (n, p) in _parameters) yield return (n, p);
        foreach (var (cn, c) in _children)
            foreach (var (n, p) in c.NamedParameterVars()) yield return (cn + "." + n, p);
    }

    /// <summary>Parameter values by name (the tensors themselves, not copies).</summary>
    public IEnumerable<(string Name, Tensor<T> Value)> NamedParameters()
    {
        foreach (var (n, p) in NamedParameterVars()) yield return (n, p.Value);
    }

    public List<Var<T>> Parameters()
    {
        var l = new List<Var<T>>();
        foreach (var (_, p) in NamedParameterVars()) l.Add(p);
        return l;
    }

    public long ParameterCount()
    {
        long n = 0;
        foreach (var (_, p) in NamedParameterVars()) n += p.Length;
        return n;
    }

    /// <summary>
    /// Copies values into the parameters. Every parameter must be given exactly once, with its shape;
    /// unknown names are errors (a model file of another architecture must not load silently).
    /// </summary>
    public void LoadParameters(IEnumerable<(string Name, Tensor<T> Value)> values)
    {
        var mine = new Dictionary<string, Var<T>>();
        foreach (var (n, p) in NamedParameterVars()) mine[n] = p;
        var seen = new HashSet<string>();
        foreach (var (name, value) in values)
        {
            if (!mine.TryGetValue(name, out var p)) throw new ArgumentException($"Unknown parameter '{name}'.");
            if (!seen.Add(name)) throw new ArgumentException($"Parameter '{name}' given twice.");
            value.RequireShape(p.Value.Shape, $"Parameter '{name}'");
            value.Data.CopyTo(p.Value.Data, 0);
        }
        foreach (var n in mine.Keys)
            if (!seen.Contains(n)) throw new ArgumentException($"Parameter '{n}' missing.");
    }

    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameterVars()) p.Grad = null;
    }

    /// <summary>Runs Forward without recording a tape.</summary>
    public Tensor<T> Predict(Tensor<T> x)
    {
        using var _ = GradMode.NoGrad();
        return Forward(Var<T>.Constant(x)).Value;
    }
}
