using System.Numerics;
using HessianML.Tensors;

namespace HessianML.Autodiff;

/// <summary>
/// Reverse-mode differentiation over the tape. <see cref="Backward{T}"/> fills leaves' Grad (PyTorch's
/// loss.backward()); Grad returns gradients with respect to chosen inputs and, with
/// createGraph, returns them as graph nodes that can be differentiated again (torch.autograd.grad with
/// create_graph=True): that is how the log-partition loss puts grad_t psi(t) inside the graph, and how
/// Hessians are taken.
/// </summary>
public static class Autograd
{
    public static void Backward<T>(Var<T> output, Tensor<T>? seed = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!output.RequiresGrad)
            throw new InvalidOperationException("Backward on a value that does not require grad (no parameter reaches it, or it was computed under NoGrad).");
        seed ??= ScalarSeed(output);
        var fast = Run(output, seed, null, createGraph: false, out _);
        foreach (var (node, acc) in fast)
        {
            if (!node.IsLeaf) continue;
            if (node.Grad is null) node.Grad = acc.Owned ? acc.Value : acc.Value.Clone();
            else
            {
                node.Grad.RequireShape(acc.Value.Shape, "Accumulated gradient");
                if (node.Grad.IsOnDevice) node.Grad = TensorKernels.Binary(BinaryOp.Add, node.Grad, acc.Value);
                else System.Numerics.Tensors.TensorPrimitives.Add(node.Grad.Data, acc.Value.Data, node.Grad.Data);
            }
        }
    }

    /// <summary>
    /// Gradients of output (a scalar, or any shape with a seed = the vector of a vector-Jacobian product)
    /// with respect to inputs. With createGraph the results are differentiable graph nodes; otherwise constants.
    /// Inputs the output does not depend on get zeros.
    /// </summary>
    public static Var<T>[] Grad<T>(Var<T> output, IReadOnlyList<Var<T>> inputs, bool createGraph = false, Tensor<T>? seed = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        seed ??= ScalarSeed(output);
        var result = new Var<T>[inputs.Count];
        var targets = new HashSet<Var<T>>(inputs, ReferenceEqualityComparer.Instance);
        if (!output.RequiresGrad)
        {
            for (int i = 0; i < result.Length; i++) result[i] = Var<T>.Constant(inputs[i].Value.ZerosHere(inputs[i].Value.ShapeArray));
            return result;
        }
        if (createGraph)
        {
            Dictionary<Var<T>, Var<T>> g;
            using (GradMode.Enable()) g = RunGraph(output, seed, targets);
            for (int i = 0; i < result.Length; i++)
                result[i] = g.TryGetValue(inputs[i], out var v) ? v : Var<T>.Constant(inputs[i].Value.ZerosHere(inputs[i].Value.ShapeArray));
        }
        else
        {
            var g = Run(output, seed, targets, createGraph: false, out _);
            for (int i = 0; i < result.Length; i++)
                result[i] = Var<T>.Constant(g.TryGetValue(inputs[i], out var a) ? (a.Owned ? a.Value : a.Value.Clone())
                    : inputs[i].Value.ZerosHere(inputs[i].Value.ShapeArray));
        }
        return result;
    }

    public static Var<T> Grad<T>(Var<T> output, Var<T> input, bool createGraph = false) where T : unmanaged, IFloatingPointIeee754<T>
        => Grad(output, [input], createGraph)[0];

    private static Tensor<T> ScalarSeed<T>(Var<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Value.Length != 1)
            throw new ArgumentException($"Gradient of a non-scalar output of shape {Tensor<T>.ShapeString(output.Shape)} needs a seed (or reduce it with Sum/Mean first).");
        return output.Value.FullHere(T.One, output.Value.ShapeArray);
    }

    internal struct Acc<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Tensor<T> Value;
        public bool Owned; // false when the tensor may be shared (e.g. passed through unchanged): copy before writing
    }

    /// <summary>Nodes that need grad, parents before children, and which of them lead to a target.</summary>
    private static List<Var<T>> Order<T>(Var<T> output, HashSet<Var<T>>? targets, out HashSet<Var<T>> leadsToTarget)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var order = new List<Var<T>>();
        var visited = new HashSet<Var<T>>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Var<T> Node, int Next)>();
        stack.Push((output, 0));
        visited.Add(output);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Parents.Length)
            {
                stack.Push((node, next + 1));
                var p = node.Parents[next];
                if (p.RequiresGrad && visited.Add(p)) stack.Push((p, 0));
            }
            else order.Add(node);
        }
        leadsToTarget = new HashSet<Var<T>>(ReferenceEqualityComparer.Instance);
        foreach (var n in order)
        {
            bool lead = targets is null ? n.IsLeaf : targets.Contains(n);
            if (!lead)
                foreach (var p in n.Parents)
                    if (leadsToTarget.Contains(p)) { lead = true; break; }
            if (lead) leadsToTarget.Add(n);
        }
        return order;
    }

    private static bool[]? Needs<T>(Var<T> node, HashSet<Var<T>> lead) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (node.IsLeaf) return null;
        var needs = new bool[node.Parents.Length];
        bool any = false;
        for (int i = 0; i < needs.Length; i++)
            any |= needs[i] = node.Parents[i].RequiresGrad && lead.Contains(node.Parents[i]);
        return any ? needs : null;
    }

    private static void CheckShape<T>(Var<T> node, Var<T> parent, Tensor<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!g.SameShape(parent.Value))
            throw new InvalidOperationException($"Backward of '{node.Op}' produced a gradient of shape {Tensor<T>.ShapeString(g.Shape)} for an input of shape {Tensor<T>.ShapeString(parent.Shape)}.");
    }

    private static Dictionary<Var<T>, Acc<T>> Run<T>(Var<T> output, Tensor<T> seed, HashSet<Var<T>>? targets, bool createGraph, out List<Var<T>> order)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = createGraph;
        seed.RequireShape(output.Shape, "Backward seed");
        order = Order(output, targets, out var lead);
        var grads = new Dictionary<Var<T>, Acc<T>>(ReferenceEqualityComparer.Instance) { [output] = new Acc<T> { Value = seed, Owned = false } };
        for (int idx = order.Count - 1; idx >= 0; idx--)
        {
            var node = order[idx];
            if (!grads.TryGetValue(node, out var acc)) continue;
            var needs = Needs(node, lead);
            if (needs is null) continue;
            Tensor<T>?[] pg;
            // On a device an op's graph form runs as device kernels; its fused host form would read host arrays, so it is
            // used there only by ops that have no graph form (their fused backward handles the device itself).
            if (node.FastBack is not null && (node.GraphBack is null || !node.Value.IsOnDevice)) pg = node.FastBack(acc.Value, needs);
            else if (node.GraphBack is not null)
            {
                using (GradMode.NoGrad())
                {
                    var gv = node.GraphBack(Var<T>.Constant(acc.Value), needs);
                    pg = new Tensor<T>?[gv.Length];
                    for (int i = 0; i < gv.Length; i++) pg[i] = gv[i]?.Value;
                }
            }
            else throw new InvalidOperationException($"Op '{node.Op}' has no backward.");
            bool keep = targets is not null && targets.Contains(node);
            if (!keep) grads.Remove(node); // free intermediate gradients early
            for (int i = 0; i < pg.Length; i++)
            {
                var g = pg[i];
                if (g is null || !needs[i]) continue;
                var p = node.Parents[i];
                CheckShape(node, p, g);
                if (!grads.TryGetValue(p, out var pa)) grads[p] = new Acc<T> { Value = g, Owned = false };
                else if (pa.Owned && !pa.Value.IsOnDevice)
                    System.Numerics.Tensors.TensorPrimitives.Add(pa.Value.Data, g.Data, pa.Value.Data);
                else
                    grads[p] = new Acc<T> { Value = TensorKernels.Binary(BinaryOp.Add, pa.Value, g), Owned = true };
            }
        }
        // Only ops that created their gradient tensor could mark it owned; conservatively we never trust
        // a tensor we did not allocate here, so callers copy before mutating (see Backward).
        return grads;
    }

    private static Dictionary<Var<T>, Var<T>> RunGraph<T>(Var<T> output, Tensor<T> seed, HashSet<Var<T>> targets)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        seed.RequireShape(output.Shape, "Backward seed");
        var order = Order(output, targets, out var lead);
        var grads = new Dictionary<Var<T>, Var<T>>(ReferenceEqualityComparer.Instance) { [output] = Var<T>.Constant(seed) };
        for (int idx = order.Count - 1; idx >= 0; idx--)
        {
            var node = order[idx];
            if (!grads.TryGetValue(node, out var g)) continue;
            var needs = Needs(node, lead);
            if (needs is null) continue;
            if (node.GraphBack is null)
                throw new NotSupportedException($"Double backward (createGraph: true) is not supported through op '{node.Op}': its backward is not built from differentiable ops.");
            var pg = node.GraphBack(g, needs);
            if (!targets.Contains(node)) grads.Remove(node);
            for (int i = 0; i < pg.Length; i++)
            {
                var gi = pg[i];
                if (gi is null || !needs[i]) continue;
                var p = node.Parents[i];
                CheckShape(node, p, gi.Value);
                grads[p] = grads.TryGetValue(p, out var prev) ? Ops.Add(prev, gi) : gi;
            }
        }
        return grads;
    }
}
