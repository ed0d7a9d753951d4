using System.Globalization;

namespace HessianML.Compute;

/// <summary>
/// Where a component computes: the CPU (the default everywhere) or one CUDA GPU by its ordinal. One type for every
/// place that takes a device (ONNX components, training components, the CLI's <c>--device cpu|cuda[:N]</c>), so the
/// spelling and its errors are the same everywhere. It names a device; whether that device exists is checked by
/// whoever opens it, with a one-line error saying what is missing. <c>ilgpu-cpu</c> names ILGPU's CPU accelerator: the
/// GPU engine's kernels run on the CPU, so the device code is exercised (tests, CI) where no GPU is (slow; for
/// checking, not for speed).
/// </summary>
public readonly record struct ComputeDevice
{
    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu => default;

    /// <summary>CUDA GPU number <paramref name="ordinal"/> (0 is the first).</summary>
    public static ComputeDevice Cuda(int ordinal = 0)
    {
        if (ordinal < 0)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, "a CUDA device ordinal is 0 or more");
        return new ComputeDevice(isCuda: true, ordinal);
    }

    /// <summary>ILGPU's CPU accelerator: the device kernels, run on the CPU (<c>ilgpu-cpu</c>).</summary>
    public static ComputeDevice IlgpuCpu => new(isCuda: false, 0) { IsIlgpuCpu = true };

    private ComputeDevice(bool isCuda, int ordinal) => (IsCuda, Ordinal) = (isCuda, ordinal);

    /// <summary>True for ILGPU's CPU accelerator (<see cref="IlgpuCpu"/>).</summary>
    public bool IsIlgpuCpu { get; private init; }

    /// <summary>True where the device engine (ILGPU kernels) computes: a CUDA GPU or ILGPU's CPU accelerator.</summary>
    public bool UsesDeviceEngine => IsCuda || IsIlgpuCpu;

    /// <summary>True for a CUDA GPU, false for the CPU.</summary>
    public bool IsCuda { get; }

    /// <summary>The GPU's ordinal (0 for the CPU).</summary>
    public int Ordinal { get; }

    /// <summary>
    /// Reads <c>cpu</c>, <c>cuda</c> (GPU 0), <c>cuda:N</c> or <c>ilgpu-cpu</c>, case-insensitive; anything else is a
    /// <see cref="FormatException"/> whose message is one line naming the text and the accepted forms.
    /// </summary>
    public static ComputeDevice Parse(string text)
    {
        if (TryParse(text, out var device)) return device;
        throw new FormatException($"device '{text}' is not one of {Accepted}");
    }

    /// <summary>The accepted spellings, for error messages.</summary>
    public const string Accepted = "cpu, cuda, cuda:N (N = 0, 1, ...), ilgpu-cpu";

    public static bool TryParse(string? text, out ComputeDevice device)
    {
        device = Cpu;
        var s = text?.Trim().ToLowerInvariant();
        if (s == "cpu") return true;
        if (s == "cuda") { device = Cuda(0); return true; }
        if (s == "ilgpu-cpu") { device = IlgpuCpu; return true; }
        if (s != null && s.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(s.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            device = Cuda(n);
            return true;
        }
        return false;
    }

    /// <summary><c>cpu</c>, <c>cuda:N</c> or <c>ilgpu-cpu</c>, the form <see cref="Parse"/> reads back.</summary>
    public override string ToString() => IsCuda ? $"cuda:{Ordinal}" : IsIlgpuCpu ? "ilgpu-cpu" : "cpu";
}
