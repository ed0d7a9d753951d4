namespace HessianML.Onnx;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in onnxruntime_error_code.h), in the header's order.</summary>
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
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
    DeviceReset = 15,
}

/// <summary>
/// An error reported by ONNX Runtime, as one line that names the model: "ONNX Runtime error InvalidArgument (model
/// '/path/encoder.onnx'): Input name: 'x_typo' is not in the metadata". It wraps the package's own
/// <c>Microsoft.ML.OnnxRuntime.OnnxRuntimeException</c> (kept as <see cref="Exception.InnerException"/>) so callers
/// catch one type of ours.
/// </summary>
public class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(OrtErrorCode errorCode, string ortMessage, string model, Exception? inner = null)
        : base($"ONNX Runtime error {errorCode} ({model}): {OneLine(ortMessage)}", inner)
    {
        ErrorCode = errorCode;
        OrtMessage = OneLine(ortMessage);
        Model = model;
    }

    /// <summary>ORT's error code.</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>ORT's message text, with its line breaks folded into spaces (and without the package's "[ErrorCode:...]" prefix).</summary>
    public string OrtMessage { get; }

    /// <summary>The model the error is about: "model '/full/path.onnx'" or "in-memory model (N bytes)".</summary>
    public string Model { get; }

    internal static string OneLine(string s) =>
        string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// Ours for the package's exception. The package writes its code only into the message, as "[ErrorCode:Name] text",
    /// with its own names for the codes (its 11 and 12 are named ShapeInferenceNotRegistered and
    /// RequirementNotRegistered, though the native library means EP_FAIL and MODEL_LOAD_CANCELED by them).
    /// </summary>
    internal static OnnxRuntimeException From(Microsoft.ML.OnnxRuntime.OnnxRuntimeException e, string model)
    {
        const string prefix = "[ErrorCode:";
        string message = e.Message;
        var code = OrtErrorCode.Fail;
        int close = message.IndexOf(']', StringComparison.Ordinal);
        if (message.StartsWith(prefix, StringComparison.Ordinal) && close > 0)
        {
            string name = message[prefix.Length..close];
            message = message[(close + 1)..].TrimStart();
            code = name switch
            {
                "ShapeInferenceNotRegistered" => OrtErrorCode.ExecutionProviderFail,
                "RequirementNotRegistered" => OrtErrorCode.ModelLoadCanceled,
                _ => Enum.TryParse(name, ignoreCase: false, out OrtErrorCode parsed) ? parsed : OrtErrorCode.Fail,
            };
        }
        return new OnnxRuntimeException(code, message, model, e);
    }
}
