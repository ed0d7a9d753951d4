using System.Numerics;
using HessianML.Tensors;
using HessianML.Tensors.Devices;

namespace HessianML.Autodiff;

/// <summary>
/// Adam with PyTorch's update rule (torch.optim.Adam, amsgrad off): weight decay is L2 added to the
/// gradient (not AdamW's decoupled decay); p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
/// Parameters without a gradient are skipped (as PyTorch does).
/// </summary>
public sealed class Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Var<T>[] _params;
    private readonly Tensor<T>[] _m, _v;

    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    public int StepCount { get; private set; }

    public Adam(IEnumerable<Var<T>> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
    {
        _params = parameters.ToArray();
        foreach (var p in _params)
            if (!p.IsLeaf || !p.RequiresGrad) throw new ArgumentException("Adam optimises leaf parameters (Var.Parameter) only.");
        LearningRate = lr; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
        _m = new Tensor<T>[_params.Length];
        _v = new Tensor<T>[_params.Length];
        for (int i = 0; i < _params.Length; i++)
        {
            _m[i] = _params[i].Value.ZerosHere(_params[i].Value.ShapeArray);
            _v[i] = _params[i].Value.ZerosHere(_params[i].Value.ShapeArray);
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in _params) p.Grad = null;
    }

    public void Step()
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), one = T.One;
        T stepSize = T.CreateChecked(LearningRate / bc1), sqrtBc2 = T.CreateChecked(Math.Sqrt(bc2));
        T eps = T.CreateChecked(Eps), wd = T.CreateChecked(WeightDecay);
        bool decay = WeightDecay != 0;
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            if (p.Grad is null) continue;
            // The moments live where their parameter does (a parameter moves to a device for a fit, and back).
            _m[i].MoveTo(p.Value.Device);
            _v[i].MoveTo(p.Value.Device);
            if (p.Value.IsOnDevice)
            {
                DeviceOps.Adam(p.Value, p.Grad, _m[i], _v[i], new AdamConstants
                {
                    Beta1 = float.CreateChecked(b1), Beta2 = float.CreateChecked(b2), StepSize = float.CreateChecked(stepSize),
                    SqrtBias2 = float.CreateChecked(sqrtBc2), Eps = float.CreateChecked(eps), WeightDecay = float.CreateChecked(wd),
                });
                continue;
            }
            T[] w = p.Value.Data, g = p.Grad.Data, m = _m[i].Data, v = _v[i].Data;
            for (int j = 0; j < w.Length; j++)
            {
                T gj = decay ? g[j] + wd * w[j] : g[j];
                m[j] = b1 * m[j] + (one - b1) * gj;
                v[j] = b2 * v[j] + (one - b2) * gj * gj;
                w[j] -= stepSize * m[j] / (T.Sqrt(v[j]) / sqrtBc2 + eps);
            }
        }
    }
}

/// <summary>Learning-rate schedules shared by the trainers.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// Cosine decay from <paramref name="peak"/> at step 0 to peak / 20 at <paramref name="total"/>: large early steps
    /// reach the scale of the answer quickly, small late steps average out minibatch noise.
    /// </summary>
    public static double Cosine(double peak, int step, int total) =>
        peak * (0.05 + 0.95 * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, total))));
}
