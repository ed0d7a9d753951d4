using System.Buffers;
using HessianML.Onnx.Native;

namespace HessianML.Onnx;

/// <summary>
/// <see cref="IOnnxInferenceEngine"/> on the real ONNX Runtime native library through our own binding of its C API
/// (see the seam note in IOnnxInferenceEngine.cs). The library is found by <see cref="OnnxRuntimeLocator"/> and
/// fetched from npm on first use when nothing else names it.
/// </summary>
public sealed class OnnxRuntimeEngine : IOnnxInferenceEngine
{
    private readonly OrtApi _api;
    private readonly OrtEnvHandle _env;
    private readonly OrtMemoryInfoHandle _cpu;

    /// <summary>Locates (fetching if need be) and loads ONNX Runtime, and creates its environment.</summary>
    public OnnxRuntimeEngine(OnnxRuntimeOptions? options = null)
    {
        options ??= new OnnxRuntimeOptions();
        if (options.LogSeverity is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(options), "LogSeverity must be 0..4");
        Library = OnnxRuntimeLocator.Locate(options);
        _api = OrtApi.Load(Library.Path);
        _env = _api.CreateEnv(options.LogSeverity, "hessianml");
        _cpu = _api.CreateCpuMemoryInfo();
    }

    /// <summary>The native library in use and how it was found.</summary>
    public OnnxRuntimeLibraryLocation Library { get; }

    /// <summary>ONNX Runtime's version string, e.g. "1.30.0".</summary>
    public string Version => _api.Version;

    public string Description => $"ONNX Runtime {Version} (C API, {Library.Path})";

    /// <summary>The execution providers compiled into the library (a listed provider may still fail to load).</summary>
    public IReadOnlyList<string> AvailableProviders => _api.AvailableProviders();

    /// <summary>Whether a session could use CUDA here; when not, <paramref name="reason"/> says why in ORT's words.</summary>
    public bool IsCudaAvailable(out string? reason, int deviceId = 0)
    {
        using var options = _api.CreateSessionOptions();
        return _api.TryAppendCuda(options, deviceId, out reason);
    }

    public IOnnxSession CreateSession(string modelPath, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        using var so = PrepareOptions(options, out string provider, out string? cudaReason);
        return Wrap(_api.CreateSession(_env, Path.GetFullPath(modelPath), so), provider, cudaReason);
    }

    public IOnnxSession CreateSession(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null)
    {
        if (model.IsEmpty) throw new ArgumentException("the model is empty", nameof(model));
        using var so = PrepareOptions(options, out string provider, out string? cudaReason);
        return Wrap(_api.CreateSessionFromArray(_env, model, so), provider, cudaReason);
    }

    private OrtSessionOptionsHandle PrepareOptions(OnnxSessionOptions? options, out string provider, out string? cudaReason)
    {
        ObjectDisposedException.ThrowIf(_env.IsClosed, this);
        options ??= new OnnxSessionOptions();
        options.Validate();
        var so = _api.CreateSessionOptions();
        try
        {
            _api.SetIntraOpNumThreads(so, options.IntraOpThreads);
            _api.SetInterOpNumThreads(so, options.InterOpThreads);
            _api.SetGraphOptimizationLevel(so, (int)options.GraphOptimization);
            provider = "CPUExecutionProvider";
            cudaReason = null;
            if (options.Cuda != OnnxCudaUse.Off)
            {
                if (_api.TryAppendCuda(so, options.CudaDeviceId, out cudaReason)) provider = "CUDAExecutionProvider";
                else if (options.Cuda == OnnxCudaUse.Required)
                    throw new OnnxRuntimeException(OrtErrorCode.ExecutionProviderFail, $"CUDA execution provider unavailable: {cudaReason}");
            }
            return so;
        }
        catch { so.Dispose(); throw; }
    }

    private OnnxRuntimeSession Wrap(OrtSessionHandle session, string provider, string? cudaReason)
    {
        try { return new OnnxRuntimeSession(_api, _env, session, _cpu, provider, cudaReason); }
        catch { session.Dispose(); throw; }
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _env.Dispose();
    }
}

/// <summary>A session of <see cref="OnnxRuntimeEngine"/>.</summary>
internal sealed class OnnxRuntimeSession : IOnnxSession
{
    private readonly OrtApi _api;
    private readonly OrtSessionHandle _session;
    private readonly string[] _outputNames;
    private readonly IntPtr _cpu;

    public OnnxRuntimeSession(OrtApi api, OrtEnvHandle env, OrtSessionHandle session, OrtMemoryInfoHandle cpu, string provider,
        string? cudaReason)
    {
        _api = api;
        _session = session;
        ExecutionProvider = provider;
        CudaUnavailableReason = cudaReason;
        Inputs = Describe(api.SessionInputCount(session), input: true);
        Outputs = Describe(api.SessionOutputCount(session), input: false);
        _outputNames = Outputs.Select(o => o.Name).ToArray();
        // The environment and the CPU memory info live until the session is released, even if the engine goes first.
        session.KeepAlive(env);
        _cpu = session.KeepAlive(cpu);
    }

    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    public string ExecutionProvider { get; }

    public string? CudaUnavailableReason { get; }

    private OnnxValueInfo[] Describe(int count, bool input)
    {
        var result = new OnnxValueInfo[count];
        for (int i = 0; i < count; i++)
        {
            string name = input ? _api.SessionInputName(_session, i) : _api.SessionOutputName(_session, i);
            var (type, shape, symbolic, isTensor) = _api.SessionIoInfo(_session, i, input);
            result[i] = new OnnxValueInfo(name, type, shape, symbolic) { IsTensor = isTensor };
        }
        return result;
    }

    public IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs,
        IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var alive = _session.Lease(); // the session, and with it _cpu, stays valid for the whole run
        var names = outputNames ?? _outputNames;
        var inputNames = new List<string>(inputs.Count);
        var values = new List<OrtValueHandle>(inputs.Count);
        var pins = new List<MemoryHandle>(inputs.Count);
        OrtValueHandle[]? outputs = null;
        try
        {
            foreach (var (name, tensor) in inputs)
            {
                ArgumentNullException.ThrowIfNull(tensor, $"inputs[{name}]");
                var pin = tensor.Data.AsMemory().Pin();
                pins.Add(pin);
                unsafe
                {
                    values.Add(_api.CreateTensorOverData(_cpu, pin.Pointer, (long)tensor.Data.Length * sizeof(float),
                        tensor.ShapeSpan, OnnxElementType.Float));
                }
                inputNames.Add(name);
            }
            outputs = _api.Run(_session, inputNames, values, names);
            var result = new Dictionary<string, OnnxTensor>(names.Count, StringComparer.Ordinal);
            for (int i = 0; i < outputs.Length; i++) result[names[i]] = ReadFloat(outputs[i], names[i]);
            return result;
        }
        finally
        {
            if (outputs is not null) foreach (var o in outputs) o.Dispose();
            foreach (var v in values) v.Dispose();   // values before the memory they point at is unpinned
            foreach (var p in pins) p.Dispose();
        }
    }

    private unsafe OnnxTensor ReadFloat(OrtValueHandle value, string name)
    {
        var (type, shape, count, data) = _api.TensorView(value);
        if (type != OnnxElementType.Float)
            throw new NotSupportedException($"output '{name}' is a {(type == OnnxElementType.Undefined ? "non-tensor value" : type + " tensor")}; only float tensors are read");
        var copy = new float[checked((int)count)];
        new ReadOnlySpan<float>((void*)data, copy.Length).CopyTo(copy);
        return new OnnxTensor(copy, shape);
    }

    public void Dispose() => _session.Dispose();
}
