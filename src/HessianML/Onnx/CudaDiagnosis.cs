using System.Text.RegularExpressions;

namespace HessianML.Onnx;

/// <summary>
/// One line saying why ONNX Runtime cannot run on CUDA here, and what to install: built from what the runtime reports,
/// so the two usual failures read as a setup step rather than a stack trace. (1) The CPU package
/// (Microsoft.ML.OnnxRuntime) has no CUDA execution provider at all. (2) The GPU package
/// (Microsoft.ML.OnnxRuntime.Gpu.Linux, chosen by building with <c>-p:HessianOnnxGpu=true</c>) is there but the CUDA 13 /
/// cuDNN 9 libraries it links against are not: ONNX Runtime then fails with "libcublasLt.so.13: cannot open shared
/// object file", naming the first library it missed.
/// </summary>
public static partial class CudaDiagnosis
{
    /// <summary>The CUDA major version and cuDNN major version the GPU package of ONNX Runtime 1.32 is built against.</summary>
    public const int CudaMajor = 13, CudnnMajor = 9;

    /// <summary>Case (1): the runtime lists no CUDAExecutionProvider.</summary>
    public static string NoProvider(string ortVersion, IEnumerable<string> providers) =>
        $"CUDA requested, but this ONNX Runtime ({ortVersion}, providers: {string.Join(", ", providers)}) is the CPU build " +
        "(package Microsoft.ML.OnnxRuntime); build with -p:HessianOnnxGpu=true for Microsoft.ML.OnnxRuntime.Gpu.Linux, " +
        $"which needs CUDA {CudaMajor} and cuDNN {CudnnMajor} on the machine (README \"GPU\")";

    [GeneratedRegex(@"(lib[A-Za-z0-9_+\-]+\.so(?:\.\d+)*): cannot open shared object file", RegexOptions.CultureInvariant)]
    private static partial Regex MissingLibrary();

    /// <summary>
    /// Case (2) as it happens: ONNX Runtime's exception says only "Failed to load shared library" (the missing library is
    /// named in its log line), so the provider library is loaded once more here, where the loader's message names it.
    /// </summary>
    internal static string LoadFailureHere(string ortMessage, int deviceId)
    {
        if (MissingLibrary().IsMatch(ortMessage)) return LoadFailure(ortMessage, deviceId);
        const string provider = "libonnxruntime_providers_cuda.so";
        string? path = new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", provider), Path.Combine(AppContext.BaseDirectory, provider) }
            .FirstOrDefault(File.Exists);
        if (path is null) return LoadFailure($"{ortMessage} ({provider} is not beside the application)", deviceId);
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(path));
            return LoadFailure(ortMessage, deviceId);
        }
        catch (DllNotFoundException e)
        {
            return LoadFailure(e.Message, deviceId);
        }
    }

    /// <summary>Case (2) and anything else the CUDA provider reports when it is appended, from the runtime's or the loader's message.</summary>
    public static string LoadFailure(string ortMessage, int deviceId)
    {
        ArgumentNullException.ThrowIfNull(ortMessage);
        var m = MissingLibrary().Match(ortMessage);
        if (!m.Success)
            return $"the CUDA execution provider could not start on GPU {deviceId}: {OnnxRuntimeException.OneLine(ortMessage)}";
        string library = m.Groups[1].Value;
        string what = library.StartsWith("libcudnn", StringComparison.Ordinal) ? $"cuDNN {CudnnMajor}"
            : library.StartsWith("libonnxruntime_providers", StringComparison.Ordinal) ? "ONNX Runtime's CUDA provider library (the GPU package's own file)"
            : library.StartsWith("libcuda.so", StringComparison.Ordinal) ? "the NVIDIA driver"
            : $"CUDA {CudaMajor}";
        return $"the CUDA execution provider cannot load: {library} is missing ({what}); ONNX Runtime's GPU build needs CUDA {CudaMajor} " +
               $"(cuBLAS, cuFFT, cudart) and cuDNN {CudnnMajor}: install them and put their lib folders on LD_LIBRARY_PATH (README \"GPU\")";
    }
}

/// <summary>
/// A component was asked for a GPU (<c>GpuDeviceId</c>, <c>--device cuda</c>) without <c>FallbackToCpu</c>, and CUDA
/// cannot run: the message is <see cref="CudaDiagnosis"/>'s one line, naming what is missing. The training engine's
/// devices (<see cref="Tensors.Devices.DeviceAccelerator"/>: no CUDA driver, no GPU, or no GPU of that ordinal) throw it
/// too, with their own line.
/// </summary>
public sealed class GpuUnavailableException(string message, Exception? inner = null) : NotSupportedException(message, inner);
