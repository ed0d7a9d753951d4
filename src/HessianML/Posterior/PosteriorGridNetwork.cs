using HessianML.Autodiff;
using HessianML.Autodiff.Layers;
using HessianML.Tensors;

namespace HessianML.Posterior;

/// <summary>
/// The mapping network of METHOD §4a: a bundle [B, K_bundle, H, W] (members stacked as channels) -> grid logits
/// [B, K*K]. Convolutional: circular pad -> 3x3 conv (K_bundle -> C) -> ReLU -> circular pad -> 3x3 conv (C -> C) ->
/// ReLU -> global average pool -> Linear (C -> H) -> ReLU -> Linear (H -> K*K). The lattice is a torus, so circular
/// padding keeps every site equivalent, and with global pooling the net can represent the Ising sufficient
/// statistics (bond sum and magnetisation per member) exactly. Dense: an MLP on the flattened bundle (for open
/// chains like TASEP, where a site's position matters).
/// </summary>
internal sealed class PosteriorGridNetwork : Module<float>
{
    private readonly Conv2d<float>? _conv1, _conv2;
    private readonly Linear<float>? _dense1, _dense2;
    private readonly Linear<float> _hidden, _out;

    public bool Convolutional { get; }

    public PosteriorGridNetwork(bool convolutional, int bundle, int height, int width, int channels, int hidden, int cells, ulong seed)
    {
        Convolutional = convolutional;
        var rng = new SplitMix64(seed);
        if (convolutional)
        {
            _conv1 = AddModule("conv1", new Conv2d<float>(bundle, channels, 3, rng));
            _conv2 = AddModule("conv2", new Conv2d<float>(channels, channels, 3, rng));
            _hidden = AddModule("hidden", new Linear<float>(channels, hidden, rng));
        }
        else
        {
            _dense1 = AddModule("dense1", new Linear<float>(bundle * height * width, hidden, rng));
            _dense2 = AddModule("dense2", new Linear<float>(hidden, hidden, rng));
            _hidden = _dense2;
        }
        _out = AddModule("out", new Linear<float>(hidden, cells, rng));
    }

    public override Var<float> Forward(Var<float> x)
    {
        if (Convolutional)
        {
            var h = Ops.Relu(_conv1!.Forward(CircularPad(x)));
            h = Ops.Relu(_conv2!.Forward(CircularPad(h)));
            h = Ops.GlobalAvgPool2d(h);
            h = Ops.Reshape(h, h.Value.Shape[0], -1);
            h = Ops.Relu(_hidden.Forward(h));
            return _out.Forward(h);
        }
        var d = Ops.Reshape(x, x.Value.Shape[0], -1);
        d = Ops.Relu(_dense1!.Forward(d));
        d = Ops.Relu(_dense2!.Forward(d));
        return _out.Forward(d);
    }

    /// <summary>Wraps one site around each side of axes 2 and 3 (periodic boundary), so a 3x3 conv keeps the size.</summary>
    internal static Var<float> CircularPad(Var<float> x)
    {
        for (int axis = 2; axis <= 3; axis++)
        {
            int n = x.Value.Shape[axis];
            x = Ops.Concat([Ops.Slice(x, axis, n - 1, 1), x, Ops.Slice(x, axis, 0, 1)], axis);
        }
        return x;
    }
}
