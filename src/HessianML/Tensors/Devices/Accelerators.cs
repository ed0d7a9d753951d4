using HessianML.Compute;
using HessianML.Onnx;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace HessianML.Tensors.Devices;

/// <summary>
/// An ILGPU accelerator the engine's tensors can live on (a CUDA GPU, or ILGPU's CPU accelerator that runs the same
/// kernels on the CPU), with its compiled kernels. One per device per process, opened on first use and kept: ILGPU
/// compiles each kernel once per accelerator, and a training run moves its tensors there once.
/// </summary>
public sealed class DeviceAccelerator
{
    private static readonly Dictionary<ComputeDevice, DeviceAccelerator> Open = [];
    private static readonly Lock Gate = new();

    /// <summary>The device it was opened for.</summary>
    public ComputeDevice Device { get; }

    internal Accelerator Accelerator { get; }

    internal DeviceKernels Kernels { get; }

    /// <summary>The accelerator's own name (e.g. "NVIDIA H100 80GB HBM3"), for logs.</summary>
    public string Name => Accelerator.Name;

    private DeviceAccelerator(ComputeDevice device, Accelerator accelerator)
    {
        (Device, Accelerator) = (device, accelerator);
        Kernels = new DeviceKernels(accelerator);
    }

    /// <summary>
    /// The accelerator for <paramref name="device"/>: null for <see cref="ComputeDevice.Cpu"/> (the CPU engine needs
    /// none). A CUDA device that is not there is a <see cref="GpuUnavailableException"/> whose message is one line
    /// saying what is missing.
    /// </summary>
    public static DeviceAccelerator? For(ComputeDevice device)
    {
        if (!device.UsesDeviceEngine) return null;
        lock (Gate)
        {
            if (Open.TryGetValue(device, out var found)) return found;
            var opened = device.IsCuda ? OpenCuda(device) : OpenCpu(device);
            Open[device] = opened;
            return opened;
        }
    }

    private static DeviceAccelerator OpenCpu(ComputeDevice device)
    {
        // A small emulated CPU device (warps of 2 threads, 2 warps, one multiprocessor): ILGPU's CPU accelerator
        // emulates GPU threads with synchronised OS threads, and with its default device a launch costs ~12 ms here,
        // with 2 x 1 x 1 ~0.4 ms (measured on 2 cores). Groups of 4 threads let the tiled matrix product run with
        // 2 x 2 tiles, so its cooperation between threads is checked too. It checks the kernels; it is not meant to be fast.
        var context = Context.Create(b => b.CPU(new CPUDevice(2, 2, 1)).EnableAlgorithms());
        return new DeviceAccelerator(device, context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel));
    }

    private static DeviceAccelerator OpenCuda(ComputeDevice device)
    {
        Context context;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms());
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            throw new GpuUnavailableException($"device {device}: the CUDA driver (libcuda) cannot be loaded: {FirstLine(ex.Message)}");
        }
        var found = context.GetCudaDevices();
        if (device.Ordinal >= found.Count)
        {
            context.Dispose();
            throw new GpuUnavailableException(found.Count == 0
                ? $"device {device}: no CUDA GPU found (ILGPU sees none: it needs an NVIDIA GPU and its driver); use --device cpu"
                : $"device {device}: only {found.Count} CUDA GPU(s) found (cuda:0 .. cuda:{found.Count - 1})");
        }
        return new DeviceAccelerator(device, context.CreateCudaAccelerator(device.Ordinal));
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>Waits until every kernel queued on the accelerator has finished (for timings).</summary>
    public void Synchronize() => Accelerator.Synchronize();
}
