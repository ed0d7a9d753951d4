namespace HessianML.Onnx;

// The seam. Everything in HessianML that runs an ONNX model goes through IOnnxInferenceEngine / IOnnxSession: float
// tensors in and out by name, errors as our OnnxRuntimeException naming the model. The one implementation is
// OnnxRuntimeEngine, over the Microsoft.ML.OnnxRuntime package's InferenceSession; a test double or another runtime is
// another small class.

/// <summary>Creates ONNX inference sessions. Thread-safe; dispose it after the sessions it made.</summary>
public interface IOnnxInferenceEngine : IDisposable
{
    /// <summary>What runs the models, e.g. "ONNX Runtime 1.32.0 (Microsoft.ML.OnnxRuntime)".</summary>
    string Description { get; }

    /// <summary>A session for the ONNX model file at <paramref name="modelPath"/>.</summary>
    IOnnxSession CreateSession(string modelPath, OnnxSessionOptions? options = null);

    /// <summary>A session for a serialised ONNX model held in memory.</summary>
    IOnnxSession CreateSession(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null);
}

/// <summary>One loaded model, ready to run. <see cref="Run"/> may be called from several threads at once.</summary>
public interface IOnnxSession : IDisposable
{
    /// <summary>The model's inputs, in the model's order.</summary>
    IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>The model's outputs, in the model's order.</summary>
    IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>The execution provider the session runs on first: "CPUExecutionProvider" or "CUDAExecutionProvider".</summary>
    string ExecutionProvider { get; }

    /// <summary>Why CUDA was not used when <see cref="OnnxSessionOptions.Cuda"/> asked for it if available; otherwise null.</summary>
    string? CudaUnavailableReason { get; }

    /// <summary>
    /// Runs the model on float tensors, returning the requested outputs (all of them when
    /// <paramref name="outputNames"/> is null) by name. Errors from the runtime (an unknown input name, a wrong
    /// shape) surface as <see cref="OnnxRuntimeException"/>: one line with the runtime's code and message, naming the model.
    /// </summary>
    IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs,
        IReadOnlyList<string>? outputNames = null);
}

/// <summary>Tensor element types, numbered as ONNX's TensorProto.DataType (and ORT's ONNXTensorElementDataType).</summary>
public enum OnnxElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>
/// The name, element type and shape of a model input or output. <see cref="Shape"/> holds -1 where a dimension is
/// not fixed; <see cref="SymbolicDimensions"/> then holds its name (e.g. "batch") when the model gives one.
/// </summary>
public sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, IReadOnlyList<long> Shape,
    IReadOnlyList<string?> SymbolicDimensions)
{
    /// <summary>False for sequences, maps and other non-tensor values (their type and shape are left empty).</summary>
    public bool IsTensor { get; init; } = true;

    public override string ToString() =>
        $"{Name}: {ElementType}[{string.Join(", ", Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDimensions[i] ?? "?"))}]";
}

/// <summary>Whether a session uses the CUDA execution provider.</summary>
public enum OnnxCudaUse
{
    /// <summary>CPU only.</summary>
    Off,

    /// <summary>CUDA when the runtime library and machine can run it, else CPU (<see cref="IOnnxSession.CudaUnavailableReason"/> says why).</summary>
    IfAvailable,

    /// <summary>CUDA or an <see cref="OnnxRuntimeException"/> with the runtime's reason.</summary>
    Required,
}

/// <summary>Graph optimisation levels (ORT's GraphOptimizationLevel).</summary>
public enum OnnxGraphOptimization
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>Options for one session.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>Threads used inside one operator (ORT's intra-op pool). 0, the default, lets the runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads used to run independent operators at once (only in parallel execution mode). 0 lets the runtime choose.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Graph optimisations applied when the session loads. Default: all, as ORT's own default.</summary>
    public OnnxGraphOptimization GraphOptimization { get; init; } = OnnxGraphOptimization.All;

    /// <summary>Whether to use CUDA. Default off: the Microsoft.ML.OnnxRuntime package (CPU) has no CUDA provider; Microsoft.ML.OnnxRuntime.Gpu has.</summary>
    public OnnxCudaUse Cuda { get; init; } = OnnxCudaUse.Off;

    /// <summary>The CUDA device, when CUDA is used.</summary>
    public int CudaDeviceId { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads, nameof(InterOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId, nameof(CudaDeviceId));
    }
}
