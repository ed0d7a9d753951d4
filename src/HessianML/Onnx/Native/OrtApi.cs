using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace HessianML.Onnx.Native;

/// <summary>
/// The subset of ONNX Runtime's C API that HessianML uses, called through the function table that
/// <c>OrtGetApiBase()->GetApi(version)</c> returns. The library is loaded from a path of our choosing with
/// <see cref="NativeLibrary.Load(string)"/> (no <c>DllImport</c> of a fixed name), so the locator decides which file runs.
/// </summary>
/// <remarks>
/// <c>OrtApi</c> is a C struct of function pointers that only ever grows at its end; a member's index is its position in
/// the struct in onnxruntime_c_api.h. The indices below were read off that header, and each one is exercised by the
/// tests against the real library (a wrong index would crash or return nonsense, not pass quietly).
/// </remarks>
internal sealed unsafe class OrtApi
{
    /// <summary>The API version requested: every member used here exists since 1.x; 1.20 or newer is what we need.</summary>
    public const uint RequestedApiVersion = 20;

    // Indices into the OrtApi struct (onnxruntime_c_api.h).
    private const int IxCreateStatus = 0, IxGetErrorCode = 1, IxGetErrorMessage = 2, IxCreateEnv = 3,
        IxCreateSession = 7, IxCreateSessionFromArray = 8, IxRun = 9, IxCreateSessionOptions = 10,
        IxSetSessionGraphOptimizationLevel = 23, IxSetIntraOpNumThreads = 24, IxSetInterOpNumThreads = 25,
        IxSessionGetInputCount = 30, IxSessionGetOutputCount = 31, IxSessionGetInputTypeInfo = 33,
        IxSessionGetOutputTypeInfo = 34, IxSessionGetInputName = 36, IxSessionGetOutputName = 37,
        IxCreateTensorWithDataAsOrtValue = 49, IxIsTensor = 50, IxGetTensorMutableData = 51,
        IxCastTypeInfoToTensorInfo = 55, IxGetOnnxTypeFromTypeInfo = 56, IxGetTensorElementType = 60,
        IxGetDimensionsCount = 61, IxGetDimensions = 62, IxGetSymbolicDimensions = 63,
        IxGetTensorShapeElementCount = 64, IxGetTensorTypeAndShape = 65, IxCreateCpuMemoryInfo = 69,
        IxAllocatorFree = 76, IxGetAllocatorWithDefaultOptions = 78,
        IxReleaseEnv = 92, IxReleaseStatus = 93, IxReleaseMemoryInfo = 94, IxReleaseSession = 95, IxReleaseValue = 96,
        IxReleaseTypeInfo = 98, IxReleaseTensorTypeAndShapeInfo = 99, IxReleaseSessionOptions = 100,
        IxGetAvailableProviders = 125, IxReleaseAvailableProviders = 126;

    private static readonly ConcurrentDictionary<string, Lazy<OrtApi>> Loaded = new(StringComparer.Ordinal);

    private readonly IntPtr* _api;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr> _sessionOptionsAppendCuda;

    private OrtApi(string libraryPath, IntPtr library)
    {
        LibraryPath = libraryPath;
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
            throw new OnnxRuntimeNotFoundException(
                $"'{libraryPath}' is not an ONNX Runtime library: it has no OrtGetApiBase export.");
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = ((delegate* unmanaged<IntPtr*>)getApiBase)();
        var getVersion = (delegate* unmanaged<byte*>)apiBase[1];
        Version = Marshal.PtrToStringUTF8((IntPtr)getVersion()) ?? "?";
        var getApi = (delegate* unmanaged<uint, IntPtr*>)apiBase[0];
        _api = getApi(RequestedApiVersion);
        if (_api == null)
            throw new OnnxRuntimeNotFoundException(
                $"ONNX Runtime {Version} at '{libraryPath}' does not offer C API version {RequestedApiVersion}: use 1.20 or newer (HessianML fetches 1.30.0).");
        // Exported beside OrtGetApiBase in every ORT build; without the CUDA provider it returns an error status.
        if (NativeLibrary.TryGetExport(library, "OrtSessionOptionsAppendExecutionProvider_CUDA", out var cuda))
            _sessionOptionsAppendCuda = (delegate* unmanaged<IntPtr, int, IntPtr>)cuda;
    }

    public string LibraryPath { get; }

    /// <summary>ORT's version string, e.g. "1.30.0".</summary>
    public string Version { get; }

    /// <summary>Loads the library at <paramref name="libraryPath"/> once per process and returns its API table.</summary>
    public static OrtApi Load(string libraryPath)
    {
        string full = Path.GetFullPath(libraryPath);
        var lazy = Loaded.GetOrAdd(full, p => new Lazy<OrtApi>(() =>
        {
            IntPtr handle;
            try { handle = NativeLibrary.Load(p); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new OnnxRuntimeNotFoundException(
                    $"could not load the ONNX Runtime library '{p}': {OneLine(e.Message)}", e);
            }
            return new OrtApi(p, handle);
        }));
        try { return lazy.Value; }
        catch { Loaded.TryRemove(new KeyValuePair<string, Lazy<OrtApi>>(full, lazy)); throw; }
    }

    private IntPtr F(int index) => _api[index];

    // ---- status ----------------------------------------------------------------------------------------------------

    /// <summary>Throws <see cref="OnnxRuntimeException"/> for a non-null status, releasing it.</summary>
    public void Check(IntPtr status)
    {
        if (status == IntPtr.Zero) return;
        var (code, message) = ReadStatus(status);
        throw new OnnxRuntimeException(code, message);
    }

    /// <summary>Reads and releases a non-null status.</summary>
    public (OrtErrorCode Code, string Message) ReadStatus(IntPtr status)
    {
        try
        {
            var code = (OrtErrorCode)((delegate* unmanaged<IntPtr, int>)F(IxGetErrorCode))(status);
            var text = ((delegate* unmanaged<IntPtr, byte*>)F(IxGetErrorMessage))(status);
            return (code, Marshal.PtrToStringUTF8((IntPtr)text) ?? "");
        }
        finally { ((delegate* unmanaged<IntPtr, void>)F(IxReleaseStatus))(status); }
    }

    /// <summary>OrtApi::CreateStatus: used by the tests to check the status functions' indices.</summary>
    public IntPtr CreateStatus(OrtErrorCode code, string message)
    {
        fixed (byte* m = Utf8(message))
            return ((delegate* unmanaged<int, byte*, IntPtr>)F(IxCreateStatus))((int)code, m);
    }

    // ---- environment, options, session ----------------------------------------------------------------------------

    public OrtEnvHandle CreateEnv(int logSeverity, string logId)
    {
        IntPtr env;
        fixed (byte* id = Utf8(logId))
            Check(((delegate* unmanaged<int, byte*, IntPtr*, IntPtr>)F(IxCreateEnv))(logSeverity, id, &env));
        return new OrtEnvHandle(this, env);
    }

    public OrtSessionOptionsHandle CreateSessionOptions()
    {
        IntPtr options;
        Check(((delegate* unmanaged<IntPtr*, IntPtr>)F(IxCreateSessionOptions))(&options));
        return new OrtSessionOptionsHandle(this, options);
    }

    public void SetIntraOpNumThreads(OrtSessionOptionsHandle options, int threads)
    {
        using var o = options.Lease();
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)F(IxSetIntraOpNumThreads))(o.Pointer, threads));
    }

    public void SetInterOpNumThreads(OrtSessionOptionsHandle options, int threads)
    {
        using var o = options.Lease();
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)F(IxSetInterOpNumThreads))(o.Pointer, threads));
    }

    public void SetGraphOptimizationLevel(OrtSessionOptionsHandle options, int level)
    {
        using var o = options.Lease();
        Check(((delegate* unmanaged<IntPtr, int, IntPtr>)F(IxSetSessionGraphOptimizationLevel))(o.Pointer, level));
    }

    /// <summary>
    /// Appends the CUDA execution provider. False, with ORT's reason, when this build or this machine cannot run it
    /// (the npm package ships no CUDA provider library, so there it always says why not).
    /// </summary>
    public bool TryAppendCuda(OrtSessionOptionsHandle options, int deviceId, out string? reason)
    {
        if (_sessionOptionsAppendCuda == null)
        {
            reason = "this ONNX Runtime library has no CUDA execution provider entry point";
            return false;
        }
        // ORT loads the CUDA provider from libraries beside its own; without them it would only log and fail.
        string folder = Path.GetDirectoryName(LibraryPath)!;
        string[] needed = OperatingSystem.IsWindows()
            ? ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"]
            : ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];
        var missing = needed.Where(n => !File.Exists(Path.Combine(folder, n))).ToArray();
        if (missing.Length > 0)
        {
            reason = $"no CUDA execution provider beside {LibraryPath} (missing {string.Join(", ", missing)}; " +
                     "the onnxruntime-node npm build ships without it)";
            return false;
        }
        using var o = options.Lease();
        IntPtr status = _sessionOptionsAppendCuda(o.Pointer, deviceId);
        if (status == IntPtr.Zero) { reason = null; return true; }
        reason = OneLine(ReadStatus(status).Message);
        return false;
    }

    public OrtSessionHandle CreateSession(OrtEnvHandle env, string modelPath, OrtSessionOptionsHandle options)
    {
        using var e = env.Lease();
        using var o = options.Lease();
        IntPtr session;
        if (OperatingSystem.IsWindows())
        {
            // ORTCHAR_T is wchar_t on Windows.
            fixed (char* path = modelPath + "\0")
                Check(((delegate* unmanaged<IntPtr, char*, IntPtr, IntPtr*, IntPtr>)F(IxCreateSession))(e.Pointer, path, o.Pointer, &session));
        }
        else
        {
            fixed (byte* path = Utf8(modelPath))
                Check(((delegate* unmanaged<IntPtr, byte*, IntPtr, IntPtr*, IntPtr>)F(IxCreateSession))(e.Pointer, path, o.Pointer, &session));
        }
        return new OrtSessionHandle(this, session);
    }

    public OrtSessionHandle CreateSessionFromArray(OrtEnvHandle env, ReadOnlySpan<byte> model, OrtSessionOptionsHandle options)
    {
        using var e = env.Lease();
        using var o = options.Lease();
        IntPtr session;
        fixed (byte* data = model)
            Check(((delegate* unmanaged<IntPtr, byte*, nuint, IntPtr, IntPtr*, IntPtr>)F(IxCreateSessionFromArray))(
                e.Pointer, data, (nuint)model.Length, o.Pointer, &session));
        return new OrtSessionHandle(this, session);
    }

    public int SessionInputCount(OrtSessionHandle session)
    {
        using var s = session.Lease();
        nuint n;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)F(IxSessionGetInputCount))(s.Pointer, &n));
        return checked((int)n);
    }

    public int SessionOutputCount(OrtSessionHandle session)
    {
        using var s = session.Lease();
        nuint n;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)F(IxSessionGetOutputCount))(s.Pointer, &n));
        return checked((int)n);
    }

    public string SessionInputName(OrtSessionHandle session, int index) => SessionName(session, index, IxSessionGetInputName);

    public string SessionOutputName(OrtSessionHandle session, int index) => SessionName(session, index, IxSessionGetOutputName);

    private string SessionName(OrtSessionHandle session, int index, int fn)
    {
        using var s = session.Lease();
        IntPtr allocator = DefaultAllocator();
        byte* name;
        Check(((delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr>)F(fn))(s.Pointer, (nuint)index, allocator, &name));
        try { return Marshal.PtrToStringUTF8((IntPtr)name) ?? ""; }
        finally { Check(((delegate* unmanaged<IntPtr, void*, IntPtr>)F(IxAllocatorFree))(allocator, name)); }
    }

    /// <summary>The element type, dimensions (-1 where not fixed) and symbolic dimension names of an input or output.</summary>
    public (OnnxElementType Type, long[] Shape, string?[] Symbolic, bool IsTensor) SessionIoInfo(OrtSessionHandle session, int index, bool input)
    {
        using var s = session.Lease();
        IntPtr typeInfo;
        Check(((delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)F(input ? IxSessionGetInputTypeInfo : IxSessionGetOutputTypeInfo))(
            s.Pointer, (nuint)index, &typeInfo));
        try
        {
            int onnxType;
            Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)F(IxGetOnnxTypeFromTypeInfo))(typeInfo, &onnxType));
            IntPtr tensorInfo;
            Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)F(IxCastTypeInfoToTensorInfo))(typeInfo, &tensorInfo));
            if (onnxType != 1 || tensorInfo == IntPtr.Zero) // ONNX_TYPE_TENSOR = 1
                return (OnnxElementType.Undefined, [], [], false);
            var (type, shape) = TypeAndShape(tensorInfo);
            var symbolic = new string?[shape.Length];
            if (shape.Length > 0)
            {
                var names = new IntPtr[shape.Length];
                fixed (IntPtr* p = names)
                    Check(((delegate* unmanaged<IntPtr, IntPtr*, nuint, IntPtr>)F(IxGetSymbolicDimensions))(tensorInfo, p, (nuint)names.Length));
                for (int i = 0; i < names.Length; i++)
                {
                    string? n = names[i] == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(names[i]);
                    symbolic[i] = string.IsNullOrEmpty(n) ? null : n;
                }
            }
            return (type, shape, symbolic, true);
        }
        finally { ((delegate* unmanaged<IntPtr, void>)F(IxReleaseTypeInfo))(typeInfo); }
    }

    private (OnnxElementType Type, long[] Shape) TypeAndShape(IntPtr tensorInfo)
    {
        int type;
        Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)F(IxGetTensorElementType))(tensorInfo, &type));
        nuint rank;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)F(IxGetDimensionsCount))(tensorInfo, &rank));
        var shape = new long[(int)rank];
        fixed (long* p = shape)
            Check(((delegate* unmanaged<IntPtr, long*, nuint, IntPtr>)F(IxGetDimensions))(tensorInfo, p, rank));
        return ((OnnxElementType)type, shape);
    }

    // ---- values ----------------------------------------------------------------------------------------------------

    public OrtMemoryInfoHandle CreateCpuMemoryInfo()
    {
        IntPtr info;
        // OrtArenaAllocator = 1, OrtMemTypeDefault = 0
        Check(((delegate* unmanaged<int, int, IntPtr*, IntPtr>)F(IxCreateCpuMemoryInfo))(1, 0, &info));
        return new OrtMemoryInfoHandle(this, info);
    }

    /// <summary>
    /// A tensor over caller-owned memory: <c>data</c> must stay pinned and alive until the value is released;
    /// <c>memoryInfo</c> is a CPU OrtMemoryInfo the caller keeps alive.
    /// </summary>
    public OrtValueHandle CreateTensorOverData(IntPtr memoryInfo, void* data, long byteLength,
        ReadOnlySpan<long> shape, OnnxElementType type)
    {
        IntPtr value;
        fixed (long* s = shape)
            Check(((delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr>)F(IxCreateTensorWithDataAsOrtValue))(
                memoryInfo, data, (nuint)byteLength, s, (nuint)shape.Length, (int)type, &value));
        return new OrtValueHandle(this, value);
    }

    /// <summary>Element type, shape and a pointer to the data of a tensor value (valid while the value lives).</summary>
    public (OnnxElementType Type, long[] Shape, long Count, IntPtr Data) TensorView(OrtValueHandle value)
    {
        using var v = value.Lease();
        int isTensor;
        Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)F(IxIsTensor))(v.Pointer, &isTensor));
        if (isTensor == 0) return (OnnxElementType.Undefined, [], 0, IntPtr.Zero);
        IntPtr info;
        Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)F(IxGetTensorTypeAndShape))(v.Pointer, &info));
        try
        {
            var (type, shape) = TypeAndShape(info);
            nuint count;
            Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)F(IxGetTensorShapeElementCount))(info, &count));
            void* data;
            Check(((delegate* unmanaged<IntPtr, void**, IntPtr>)F(IxGetTensorMutableData))(v.Pointer, &data));
            return (type, shape, (long)count, (IntPtr)data);
        }
        finally { ((delegate* unmanaged<IntPtr, void>)F(IxReleaseTensorTypeAndShapeInfo))(info); }
    }

    /// <summary>OrtApi::Run. Output slots ORT fills are handed back as handles, also when the run fails.</summary>
    public OrtValueHandle[] Run(OrtSessionHandle session, IReadOnlyList<string> inputNames, IReadOnlyList<OrtValueHandle> inputs,
        IReadOnlyList<string> outputNames)
    {
        using var s = session.Lease();
        var leases = new List<HandleLease>(inputs.Count);
        var nameBuffers = new List<GCHandle>(inputNames.Count + outputNames.Count);
        try
        {
            var inPtrs = new IntPtr[inputs.Count];
            for (int i = 0; i < inputs.Count; i++) { var l = inputs[i].Lease(); leases.Add(l); inPtrs[i] = l.Pointer; }
            var inNames = PinNames(inputNames, nameBuffers);
            var outNames = PinNames(outputNames, nameBuffers);
            var outPtrs = new IntPtr[outputNames.Count];
            IntPtr status;
            fixed (IntPtr* pin = inNames, pIn = inPtrs, pon = outNames, pOut = outPtrs)
                status = ((delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr>)F(IxRun))(
                    s.Pointer, IntPtr.Zero, pin, pIn, (nuint)inPtrs.Length, pon, (nuint)outNames.Length, pOut);
            var outputs = new OrtValueHandle[outPtrs.Length];
            for (int i = 0; i < outPtrs.Length; i++) outputs[i] = new OrtValueHandle(this, outPtrs[i]);
            if (status != IntPtr.Zero)
            {
                foreach (var o in outputs) o.Dispose();
                Check(status);
            }
            return outputs;
        }
        finally
        {
            foreach (var l in leases) l.Dispose();
            foreach (var h in nameBuffers) h.Free();
        }
    }

    private static IntPtr[] PinNames(IReadOnlyList<string> names, List<GCHandle> pins)
    {
        var ptrs = new IntPtr[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            var h = GCHandle.Alloc(Utf8(names[i]), GCHandleType.Pinned);
            pins.Add(h);
            ptrs[i] = h.AddrOfPinnedObject();
        }
        return ptrs;
    }

    // ---- misc ------------------------------------------------------------------------------------------------------

    /// <summary>OrtApi::GetAvailableProviders: the execution providers compiled into this build.</summary>
    public IReadOnlyList<string> AvailableProviders()
    {
        byte** list;
        int n;
        Check(((delegate* unmanaged<byte***, int*, IntPtr>)F(IxGetAvailableProviders))(&list, &n));
        try
        {
            var result = new string[n];
            for (int i = 0; i < n; i++) result[i] = Marshal.PtrToStringUTF8((IntPtr)list[i]) ?? "";
            return result;
        }
        finally { Check(((delegate* unmanaged<byte**, int, IntPtr>)F(IxReleaseAvailableProviders))(list, n)); }
    }

    private IntPtr DefaultAllocator()
    {
        IntPtr allocator;
        Check(((delegate* unmanaged<IntPtr*, IntPtr>)F(IxGetAllocatorWithDefaultOptions))(&allocator));
        return allocator;
    }

    internal void ReleaseEnv(IntPtr p) => ((delegate* unmanaged<IntPtr, void>)F(IxReleaseEnv))(p);
    internal void ReleaseMemoryInfo(IntPtr p) => ((delegate* unmanaged<IntPtr, void>)F(IxReleaseMemoryInfo))(p);
    internal void ReleaseSession(IntPtr p) => ((delegate* unmanaged<IntPtr, void>)F(IxReleaseSession))(p);
    internal void ReleaseValue(IntPtr p) => ((delegate* unmanaged<IntPtr, void>)F(IxReleaseValue))(p);
    internal void ReleaseSessionOptions(IntPtr p) => ((delegate* unmanaged<IntPtr, void>)F(IxReleaseSessionOptions))(p);

    internal static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    internal static string OneLine(string s) => string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}
