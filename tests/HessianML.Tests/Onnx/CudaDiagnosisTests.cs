using HessianML.Data;
using HessianML.Features;
using HessianML.Imaging;
using HessianML.Onnx;
using HessianML.Systems;
using Microsoft.ML;

namespace HessianML.Tests.Onnx;

/// <summary>
/// Asking for CUDA: with this build's CPU package a clear one line (and a said fallback when allowed), never an
/// EntryPointNotFoundException; with the GPU package but no CUDA 13 / cuDNN 9, ONNX Runtime's "cannot open shared
/// object file" turned into what to install (the message as ONNX Runtime 1.32's GPU build writes it).
/// </summary>
[TestClass]
public sealed class CudaDiagnosisTests
{
    public TestContext TestContext { get; set; } = null!;

    private static bool CpuBuild => !Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");

    [TestMethod]
    public void CpuPackage_GpuRequested_IsOneClearLine_OrALoggedFallback()
    {
        if (!CpuBuild) Assert.Inconclusive("this build has the GPU package (-p:HessianOnnxGpu=true)");
        string dir = Features.TestImages.TempDir("cuda");
        try
        {
            string path = Path.Combine(dir, "p.png");
            PngWriter.Write(path, ShapePictures.Render(0.5, 0.5, 32).Pixels, 32, 32);
            var data = new ColumnTable.Builder().AddScalar("image", new[] { path }).Build();
            var ml = new MLContext(1);
            var refused = Assert.ThrowsExactly<GpuUnavailableException>(() =>
                ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { GpuDeviceId = 0 }).Fit(data));
            TestContext.WriteLine(refused.Message);
            Assert.IsFalse(refused.Message.Contains('\n'));
            StringAssert.Contains(refused.Message, "CPU build");
            StringAssert.Contains(refused.Message, "-p:HessianOnnxGpu=true");
            StringAssert.Contains(refused.Message, "FallbackToCpu");

            var said = new List<string>();
            using var fallback = ml.Transforms.FeaturizeImages(new ImageFeaturizerOptions { GpuDeviceId = 0, FallbackToCpu = true, Progress = said.Add }).Fit(data);
            Assert.AreEqual("CPUExecutionProvider", fallback.ExecutionProvider);
            Assert.IsTrue(said.Any(l => l.Contains("running on the CPU", StringComparison.Ordinal) && l.Contains("CPU build", StringComparison.Ordinal)),
                string.Join(" | ", said));
            using var cpu = ml.Transforms.FeaturizeImages().Fit(data);
            CollectionAssert.AreEqual(cpu.Transform(data).GetColumn<float>("features").ToArray(),
                fallback.Transform(data).GetColumn<float>("features").ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // What ONNX Runtime 1.32's GPU build reports when the CUDA provider's dependencies are missing.
    private const string MissingCublas =
        "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1862 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() " +
        "[ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: " +
        "cannot open shared object file: No such file or directory";

    [TestMethod]
    [DataRow(MissingCublas, "libcublasLt.so.13 is missing (CUDA 13)")]
    [DataRow("Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory",
        "libcudnn.so.9 is missing (cuDNN 9)")]
    [DataRow("Failed to load library libonnxruntime_providers_cuda.so with error: libcuda.so.1: cannot open shared object file: No such file or directory",
        "libcuda.so.1 is missing (the NVIDIA driver)")]
    public void GpuPackage_MissingLibrary_SaysWhatToInstall(string ortMessage, string expected)
    {
        string line = CudaDiagnosis.LoadFailure(ortMessage, 0);
        TestContext.WriteLine(line);
        StringAssert.Contains(line, expected);
        StringAssert.Contains(line, "CUDA 13");
        StringAssert.Contains(line, "cuDNN 9");
        StringAssert.Contains(line, "LD_LIBRARY_PATH");
        Assert.IsFalse(line.Contains('\n'));
    }

    /// <summary>
    /// With the GPU package on a machine without CUDA 13 (run with -p:HessianOnnxGpu=true; inconclusive in the CPU build):
    /// the real failure, whose exception says only "Failed to load shared library", names the missing library.
    /// </summary>
    [TestMethod]
    public void GpuPackage_WithoutCuda_NamesTheMissingLibrary()
    {
        if (CpuBuild) Assert.Inconclusive("the CPU build (Microsoft.ML.OnnxRuntime) has no CUDA provider to fail to load; build with -p:HessianOnnxGpu=true");
        using var engine = new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 4 });
        if (engine.IsCudaAvailable(out string? reason)) Assert.Inconclusive("CUDA runs here");
        TestContext.WriteLine(reason);
        StringAssert.Contains(reason, "is missing");
        StringAssert.Contains(reason, "CUDA 13");
        Assert.IsFalse(reason!.Contains('\n'));
    }

    [TestMethod]
    public void OtherFailures_PassTheRuntimesWordsThrough()
    {
        string line = CudaDiagnosis.LoadFailure("CUDA failure 100: no CUDA-capable device is detected\n; GPU=0", 3);
        StringAssert.Contains(line, "GPU 3");
        StringAssert.Contains(line, "no CUDA-capable device is detected ; GPU=0");
        Assert.IsFalse(line.Contains("is missing", StringComparison.Ordinal));
    }
}
