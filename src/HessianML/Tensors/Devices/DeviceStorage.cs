using ILGPU;
using ILGPU.Runtime;

namespace HessianML.Tensors.Devices;

/// <summary>
/// Device memory of one tensor (float). Freed when the tensor is collected: the tape drops its intermediates every
/// step, as on the host, and the memory is reported to the GC as pressure so that collections keep pace with device
/// allocations that the managed heap does not see.
/// </summary>
internal sealed class DeviceStorage
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;
    private readonly long _bytes;

    public DeviceAccelerator Accelerator { get; }

    public int Length { get; }

    public DeviceStorage(DeviceAccelerator accelerator, int length)
    {
        (Accelerator, Length) = (accelerator, length);
        // ILGPU refuses empty buffers; an empty tensor keeps one unused element.
        _buffer = accelerator.Accelerator.Allocate1D<float>(Math.Max(1, length));
        _bytes = 4L * Math.Max(1, length);
        GC.AddMemoryPressure(_bytes);
    }

    /// <summary>Exactly the tensor's elements.</summary>
    public ArrayView<float> View => _buffer.View.SubView(0, Math.Max(1, Length));

    public void CopyFrom(float[] data) => _buffer.View.SubView(0, Length).CopyFromCPU(data);

    public float[] ToArray()
    {
        var r = new float[Length];
        if (Length > 0) _buffer.View.SubView(0, Length).CopyToCPU(r);
        return r;
    }

    ~DeviceStorage()
    {
        try
        {
            // The finalizer thread has no CUDA context of its own: make the buffer's context current before freeing.
            Accelerator.Accelerator.Bind();
            _buffer.Dispose();
        }
        catch (Exception)
        {
            // Never throw from a finalizer (it would end the process): a buffer that cannot be freed now (the context is
            // being torn down at exit) goes with its context.
        }
        GC.RemoveMemoryPressure(_bytes);
    }
}
