namespace HessianML.Onnx;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in onnxruntime_c_api.h), in the header's order.</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    ExecutionProviderFail = 11,
    ModelRequiresCompilation = 12,
    NotFound = 13,
}

/// <summary>
/// An error reported by ONNX Runtime: an <c>OrtStatus</c> turned into an exception, carrying ORT's own error code and
/// message text unchanged (codes newer than <see cref="OrtErrorCode"/> knows keep their number).
/// </summary>
public class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(OrtErrorCode errorCode, string ortMessage)
        : base($"ONNX Runtime error {errorCode}: {ortMessage}")
    {
        ErrorCode = errorCode;
        OrtMessage = ortMessage;
    }

    /// <summary>ORT's error code.</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>ORT's message text, exactly as ORT wrote it.</summary>
    public string OrtMessage { get; }
}

/// <summary>
/// The ONNX Runtime native library could not be found, fetched or loaded. The message is one line and says how to get it.
/// </summary>
public sealed class OnnxRuntimeNotFoundException : Exception
{
    public OnnxRuntimeNotFoundException(string message, Exception? inner = null) : base(message, inner) { }
}
