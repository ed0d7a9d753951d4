using System.Runtime.InteropServices;

namespace HessianML.Onnx.Native;

/// <summary>
/// A SafeHandle for one ORT object, released through the API table that made it. Native calls take a
/// <see cref="Lease"/> so a concurrent <c>Dispose</c> cannot free the object under a running call.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(OrtApi api, IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        Api = api;
        SetHandle(handle);
    }

    protected OrtApi Api { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Holds a reference on the handle for the length of a native call.</summary>
    public HandleLease Lease()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        bool added = false;
        DangerousAddRef(ref added);
        return new HandleLease(this, DangerousGetHandle());
    }
}

internal readonly struct HandleLease(SafeHandle owner, IntPtr pointer) : IDisposable
{
    public IntPtr Pointer { get; } = pointer;

    public void Dispose() => owner.DangerousRelease();
}

internal sealed class OrtEnvHandle(OrtApi api, IntPtr handle) : OrtHandle(api, handle)
{
    protected override bool ReleaseHandle() { Api.ReleaseEnv(handle); return true; }
}

internal sealed class OrtSessionOptionsHandle(OrtApi api, IntPtr handle) : OrtHandle(api, handle)
{
    protected override bool ReleaseHandle() { Api.ReleaseSessionOptions(handle); return true; }
}

internal sealed class OrtSessionHandle(OrtApi api, IntPtr handle) : OrtHandle(api, handle)
{
    private readonly List<HandleLease> _keptAlive = [];

    /// <summary>
    /// Keeps <paramref name="owner"/> (the environment, the CPU memory info) alive until this session is released, and
    /// returns its pointer: valid for as long as a lease on this session is held.
    /// </summary>
    public IntPtr KeepAlive(OrtHandle owner)
    {
        var lease = owner.Lease();
        lock (_keptAlive) _keptAlive.Add(lease);
        return lease.Pointer;
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        lock (_keptAlive)
        {
            foreach (var lease in _keptAlive) lease.Dispose();
            _keptAlive.Clear();
        }
        return true;
    }
}

internal sealed class OrtMemoryInfoHandle(OrtApi api, IntPtr handle) : OrtHandle(api, handle)
{
    protected override bool ReleaseHandle() { Api.ReleaseMemoryInfo(handle); return true; }
}

internal sealed class OrtValueHandle(OrtApi api, IntPtr handle) : OrtHandle(api, handle)
{
    protected override bool ReleaseHandle() { Api.ReleaseValue(handle); return true; }
}
