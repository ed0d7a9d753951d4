using Microsoft.ML.OnnxRuntime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace HessianML.Onnx;

/// <summary>Options of an <see cref="OnnxRuntimeEngine"/>.</summary>
public sealed class OnnxRuntimeOptions
{
    /// <summary>ORT's log severity for the engine's sessions: 0 verbose, 1 info, 2 warning, 3 error (default), 4 fatal. Logs go to stderr.</summary>
    public int LogSeverity { get; init; } = 3;
}

/// <summary>
/// <see cref="IOnnxInferenceEngine"/> on ONNX Runtime from the Microsoft.ML.OnnxRuntime package: its managed
/// <see cref="InferenceSession"/> over the native library the package puts beside the application
/// (runtimes/{rid}/native/). Nothing is downloaded or looked up at run time.
/// </summary>
public sealed class OnnxRuntimeEngine : IOnnxInferenceEngine
{
    private const string Cpu = "CPUExecutionProvider", Cuda = "CUDAExecutionProvider";

    private readonly OrtLoggingLevel _logSeverity;
    private volatile bool _disposed;

    /// <summary>An engine on the package's ONNX Runtime (loaded by the package on first use, once per process).</summary>
    public OnnxRuntimeEngine(OnnxRuntimeOptions? options = null)
    {
        options ??= new OnnxRuntimeOptions();
        if (options.LogSeverity is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(options), "LogSeverity must be 0..4");
        _logSeverity = (OrtLoggingLevel)options.LogSeverity;
    }

    /// <summary>ONNX Runtime's version string, e.g. "1.32.0".</summary>
    public string Version => OrtEnv.Instance().GetVersionString();

    public string Description => $"ONNX Runtime {Version} (Microsoft.ML.OnnxRuntime)";

    /// <summary>The execution providers compiled into the library (a listed provider may still fail to load).</summary>
    public IReadOnlyList<string> AvailableProviders => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>Whether a session could use CUDA here; when not, <paramref name="reason"/> says why, on one line.</summary>
    public bool IsCudaAvailable(out string? reason, int deviceId = 0)
    {
        using var options = new SessionOptions();
        return TryAppendCuda(options, deviceId, out reason);
    }

    public IOnnxSession CreateSession(string modelPath, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        string path = Path.GetFullPath(modelPath);
        string model = $"model '{path}'";
        return Create(model, options, so => new InferenceSession(path, so));
    }

    public IOnnxSession CreateSession(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null)
    {
        if (model.IsEmpty) throw new ArgumentException("the model is empty", nameof(model));
        byte[] bytes = model.ToArray();
        return Create($"in-memory model ({bytes.Length} bytes)", options, so => new InferenceSession(bytes, so));
    }

    private OnnxRuntimeSession Create(string model, OnnxSessionOptions? options, Func<SessionOptions, InferenceSession> open)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new OnnxSessionOptions();
        options.Validate();
        using var so = new SessionOptions
        {
            LogSeverityLevel = _logSeverity,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            GraphOptimizationLevel = (GraphOptimizationLevel)(int)options.GraphOptimization,
        };
        string provider = Cpu;
        string? cudaReason = null;
        if (options.Cuda != OnnxCudaUse.Off)
        {
            if (TryAppendCuda(so, options.CudaDeviceId, out cudaReason)) provider = Cuda;
            else if (options.Cuda == OnnxCudaUse.Required)
                throw new OnnxRuntimeException(OrtErrorCode.ExecutionProviderFail, cudaReason!, model);
        }
        InferenceSession session;
        try { session = open(so); }
        catch (Ort.OnnxRuntimeException e) { throw OnnxRuntimeException.From(e, model); }
        try { return new OnnxRuntimeSession(session, model, provider, cudaReason); }
        catch { session.Dispose(); throw; }
    }

    // The providers are checked before CUDA is appended: with the CPU package AppendExecutionProvider_CUDA throws
    // EntryPointNotFoundException (not an OnnxRuntimeException, so ML.NET's FallbackToCpu does not catch it).
    private static bool TryAppendCuda(SessionOptions options, int deviceId, out string? reason)
    {
        var env = OrtEnv.Instance();
        var providers = env.GetAvailableProviders();
        if (!providers.Contains(Cuda, StringComparer.Ordinal))
        {
            reason = CudaDiagnosis.NoProvider(env.GetVersionString(), providers);
            return false;
        }
        // ONNX Runtime also logs a failed provider load itself; our reason replaces that line, so it is held back here.
        var level = env.EnvLogLevel;
        env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            options.AppendExecutionProvider_CUDA(deviceId);
            reason = null;
            return true;
        }
        catch (Ort.OnnxRuntimeException e)
        {
            reason = CudaDiagnosis.LoadFailureHere(OnnxRuntimeException.From(e, "CUDA").OrtMessage, deviceId);
            return false;
        }
        catch (EntryPointNotFoundException e)
        {
            reason = CudaDiagnosis.LoadFailureHere(OnnxRuntimeException.OneLine(e.Message), deviceId);
            return false;
        }
        finally
        {
            env.EnvLogLevel = level;
        }
    }

    /// <summary>Sessions made earlier stay usable; new ones are refused.</summary>
    public void Dispose() => _disposed = true;
}

/// <summary>A session of <see cref="OnnxRuntimeEngine"/>: one <see cref="InferenceSession"/>.</summary>
internal sealed class OnnxRuntimeSession : IOnnxSession
{
    private readonly InferenceSession _session;
    private readonly string _model;
    private readonly string[] _outputNames;
    // Runs share the read side (ORT's Run is thread-safe); Dispose takes the write side, so the native session is never
    // released under a running call. Not disposed itself: a thread may still be waiting on it when Dispose returns.
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private bool _disposed;

    public OnnxRuntimeSession(InferenceSession session, string model, string provider, string? cudaReason)
    {
        _session = session;
        _model = model;
        ExecutionProvider = provider;
        CudaUnavailableReason = cudaReason;
        Inputs = Describe(session.InputNames, session.InputMetadata);
        Outputs = Describe(session.OutputNames, session.OutputMetadata);
        _outputNames = [.. session.OutputNames];
    }

    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    public string ExecutionProvider { get; }

    public string? CudaUnavailableReason { get; }

    private static OnnxValueInfo[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        [.. names.Select(name =>
        {
            var m = metadata[name];
            if (m.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
                return new OnnxValueInfo(name, OnnxElementType.Undefined, [], []) { IsTensor = false };
            var shape = m.Dimensions.Select(d => d >= 0 ? (long)d : -1L).ToArray();
            var symbolic = shape.Select((d, i) =>
                d < 0 && i < m.SymbolicDimensions.Length && !string.IsNullOrEmpty(m.SymbolicDimensions[i]) ? m.SymbolicDimensions[i] : null)
                .ToArray();
            return new OnnxValueInfo(name, (OnnxElementType)(int)m.ElementDataType, shape, symbolic);
        })];

    public IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs,
        IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var names = outputNames ?? _outputNames;
        _gate.EnterReadLock();
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var inputNames = new List<string>(inputs.Count);
            foreach (var (name, tensor) in inputs)
            {
                ArgumentNullException.ThrowIfNull(tensor, $"inputs[{name}]");
                // Pins the caller's array for the call: a batch of any size goes in without a copy.
                values.Add(OrtValue.CreateTensorValueFromMemory(tensor.Data, tensor.ShapeSpan.ToArray()));
                inputNames.Add(name);
            }
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try { outputs = _session.Run(runOptions, inputNames, values, names); }
            catch (Ort.OnnxRuntimeException e) { throw OnnxRuntimeException.From(e, _model); }
            using (outputs)
            {
                var result = new Dictionary<string, OnnxTensor>(names.Count, StringComparer.Ordinal);
                int i = 0;
                foreach (var output in outputs) { result[names[i]] = ReadFloat(output, names[i]); i++; }
                return result;
            }
        }
        finally
        {
            foreach (var v in values) v.Dispose();
            _gate.ExitReadLock();
        }
    }

    private static OnnxTensor ReadFloat(OrtValue value, string name)
    {
        if (value.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
            throw new NotSupportedException($"output '{name}' is a non-tensor value; only float tensors are read");
        var info = value.GetTensorTypeAndShape();
        if (info.ElementDataType != Ort.Tensors.TensorElementType.Float)
            throw new NotSupportedException($"output '{name}' is a {(OnnxElementType)(int)info.ElementDataType} tensor; only float tensors are read");
        return new OnnxTensor(value.GetTensorDataAsSpan<float>().ToArray(), info.Shape);
    }

    public void Dispose()
    {
        _gate.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _session.Dispose();
        }
        finally { _gate.ExitWriteLock(); }
    }
}
