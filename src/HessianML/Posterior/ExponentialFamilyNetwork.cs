using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Geometry;
using HessianML.Tensors;

namespace HessianML.Posterior;

/// <summary>
/// The exponential-family head of METHOD §8: logits_k = &lt;T_hat(bundle), u_k&gt; - phi(t'_k), the exact form of a Bayes
/// posterior in an exponential family, so the learned phi is the bundle's log-partition (N psi up to scale and affine).
/// <list type="bullet">
/// <item>u_k: the cell centres in the family's coordinates (t, or -log t where the family is exponential in that:
/// <see cref="ExponentialCoordinate"/>), standardised to [-1, 1] per axis (constant).</item>
/// <item>T_hat: a per-site statistic with 2 outputs summed over sites and bundle members (extensive, like the Ising bond
/// sum and magnetisation). Each member alone: 3-wide local window (3x3 circular-padded on an L x L torus; 1x3 zero-padded
/// on an open chain) -> C channels -> ReLU -> readout to 2. On a torus every site shares the readout (translation
/// invariance: features are summed over sites first); on a chain the readout weights depend on the site (open ends
/// break translation invariance, as in TASEP).</item>
/// <item>phi = gain * Bg c: a tensor-product cubic B-spline (<see cref="TensorBSpline"/>) evaluated at the cell centres,
/// Bg [K*K, M*M] constant, c trainable. gain = K_bundle * sites, so c is a per-site, per-member log-partition of size
/// O(1), the same scale as the statistic's weights: Adam's per-parameter step fits both.</item>
/// </list>
/// ReLU is exact for +-1 spins (|s_i + s_j| = 1 + s_i s_j). The readout and c start at zero, so training starts from the
/// uniform posterior (CE = log K^2) rather than from random logits of extensive size.
/// </summary>
internal sealed class ExponentialFamilyNetwork : Module<float>
{
    private readonly Var<float> _localWeight, _localBias, _readout, _coefficients;
    private readonly Var<float> _u, _basis;
    private readonly float _gain;
    private readonly int _channels, _height, _width;

    /// <summary>True on an L x L torus (circular padding, shared readout); false on an open chain (height 1).</summary>
    public bool Torus { get; }

    /// <summary>The coordinates (of t1, t2) the logits are linear in.</summary>
    public ExponentialCoordinate Coordinate1 { get; }

    public ExponentialCoordinate Coordinate2 { get; }

    /// <summary>Spline basis functions per axis of phi.</summary>
    public int SplineCount { get; }

    public ExponentialFamilyNetwork(bool torus, int bundle, int height, int width, int channels, ParameterBox box, int grid,
        int splineCount, ulong seed, ExponentialCoordinate coordinate1 = ExponentialCoordinate.Natural,
        ExponentialCoordinate coordinate2 = ExponentialCoordinate.Natural)
    {
        var coordinates = new StandardCoordinates(box, coordinate1, coordinate2);
        (Coordinate1, Coordinate2) = (coordinate1, coordinate2);
        if (!torus && height != 1) throw new ArgumentException($"an open chain has height 1, got {height}");
        (Torus, SplineCount, _channels, _height, _width) = (torus, splineCount, channels, height, width);
        var rng = new SplitMix64(seed);
        int kh = torus ? 3 : 1;
        double bound = 1.0 / Math.Sqrt(kh * 3); // PyTorch's conv init, fan_in = 1 * kh * 3
        _localWeight = AddParameter("local.weight", Tensor<float>.RandomUniform(rng, -bound, bound, channels, 1, kh, 3));
        _localBias = AddParameter("local.bias", Tensor<float>.RandomUniform(rng, -bound, bound, channels));
        _readout = AddParameter("readout.weight", Tensor<float>.Zeros(2, torus ? channels : channels * width));
        _coefficients = AddParameter("phi.coefficients", Tensor<float>.Zeros(splineCount * splineCount, 1));
        _gain = bundle * height * width;

        var centres = box.CellCentres(grid, grid);
        var spline = new TensorBSpline(box, splineCount, splineCount);
        int cells = grid * grid, m = splineCount * splineCount;
        var u = new float[cells * 2];
        var bg = new float[cells * m];
        Span<int> idx = stackalloc int[16];
        Span<double> w = stackalloc double[16 * 6];
        for (int k = 0; k < cells; k++)
        {
            double t1 = centres[2 * k], t2 = centres[2 * k + 1];
            (u[2 * k], u[2 * k + 1]) = ((float)coordinates.U1(t1), (float)coordinates.U2(t2));
            spline.BasisRow(t1, t2, idx, w[..16], w[16..32], w[32..48], w[48..64], w[64..80], w[80..]);
            for (int r = 0; r < 16; r++) bg[k * m + idx[r]] += (float)w[r];
        }
        _u = AddConstant(new Tensor<float>(u, cells, 2));
        _basis = AddConstant(new Tensor<float>(bg, cells, m));
    }

    /// <summary>x [B, K_bundle, H, W] -> logits [B, K*K].</summary>
    public override Var<float> Forward(Var<float> x)
    {
        int b = x.Value.Shape[0], kb = x.Value.Shape[1];
        var members = Ops.Reshape(x, b * kb, 1, _height, _width); // members as extra batch entries
        // Torus: 3x3 windows with circular padding, ReLU and the sum over sites in one op (the [B*kb, C, H, W]
        // activations are never stored): [B, kb, C]. Chain: per-site features [B, kb, C*W].
        var f = Torus
            ? Ops.Reshape(Ops.Conv2dReluSum(members, _localWeight, _localBias, padding: 1, circular: true), b, kb, _channels)
            : Ops.Reshape(Ops.Relu(Ops.Conv2d(ZeroPadWidth(members), _localWeight, _localBias)), b, kb, _channels * _width);
        var stat = Ops.Linear(Ops.Sum(f, 1), _readout, null);              // sum over members, readout: [B, 2]
        return Ops.Linear(stat, _u, Ops.Neg(Phi()));
    }

    /// <summary>phi on the K*K cell centres (the logits' bias, negated).</summary>
    public Var<float> Phi() => Ops.Scale(Ops.Reshape(Ops.MatMul(_basis, _coefficients), -1), _gain);

    /// <summary>Zero (empty) sites beyond both ends of an open chain, so a 1x3 window keeps the length.</summary>
    private static Var<float> ZeroPadWidth(Var<float> x)
    {
        var s = x.Value.Shape;
        var zeros = Var<float>.Constant(x.Value.ZerosHere(s[0], s[1], s[2], 1));
        return Ops.Concat([zeros, x, zeros], 3);
    }
}
