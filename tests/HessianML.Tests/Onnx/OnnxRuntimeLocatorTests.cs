using HessianML.Onnx;

namespace HessianML.Tests.Onnx;

/// <summary>Where the native library comes from: option, then environment variable, then cache, then npm.</summary>
[TestClass]
public sealed class OnnxRuntimeLocatorTests
{
    private static readonly string CachedLibrary =
        $"onnxruntime/1.30.0/{OnnxRuntimeLocator.Platform()!.Rid}/{OnnxRuntimeLocator.Platform()!.FileName}";

    private string _dir = "";

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "hessianml-locator-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private string Touch(string relative)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        key => vars.FirstOrDefault(v => v.Key == key).Value;

    private static void AssertHowToGet(Exception e)
    {
        Assert.IsFalse(e.Message.Contains('\n'), $"one line: {e.Message}");
        StringAssert.Contains(e.Message, "HESSIANML_ONNXRUNTIME");
        StringAssert.Contains(e.Message, "npm pack onnxruntime-node@1.30.0");
    }

    [TestMethod]
    public void Onnx_Locator_OptionWinsOverEnvironmentVariableAndCache()
    {
        string fromOption = Touch("a/libonnxruntime.so.1");
        string fromEnv = Touch("b/libonnxruntime.so.1");
        var loc = OnnxRuntimeLocator.Locate(new OnnxRuntimeOptions { LibraryPath = fromOption, CacheDirectory = _dir },
            Env(("HESSIANML_ONNXRUNTIME", fromEnv)));
        Assert.AreEqual(fromOption, loc.Path);
        Assert.AreEqual(OnnxRuntimeLibrarySource.Option, loc.Source);
    }

    [TestMethod]
    public void Onnx_Locator_EnvironmentVariableNamesTheLibraryOrItsFolder()
    {
        string lib = Touch("b/libonnxruntime.so.1");
        foreach (string value in new[] { lib, Path.GetDirectoryName(lib)! })
        {
            var loc = OnnxRuntimeLocator.Locate(new OnnxRuntimeOptions { CacheDirectory = _dir }, Env(("HESSIANML_ONNXRUNTIME", value)));
            Assert.AreEqual(lib, loc.Path);
            Assert.AreEqual(OnnxRuntimeLibrarySource.EnvironmentVariable, loc.Source);
        }
    }

    [TestMethod]
    public void Onnx_Locator_UsesTheCacheFromTheCacheVariable()
    {
        string cached = Touch(CachedLibrary);
        var loc = OnnxRuntimeLocator.Locate(new OnnxRuntimeOptions { AllowDownload = false }, Env(("HESSIANML_CACHE", _dir)));
        Assert.AreEqual(cached, loc.Path);
        Assert.AreEqual(OnnxRuntimeLibrarySource.Cache, loc.Source);
    }

    [TestMethod]
    public void Onnx_Locator_MissingExplicitPathIsAClearError()
    {
        string missing = Path.Combine(_dir, "nope", "libonnxruntime.so.1");
        var e = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() =>
            OnnxRuntimeLocator.Locate(new OnnxRuntimeOptions { LibraryPath = missing }, Env()));
        StringAssert.Contains(e.Message, missing);
        AssertHowToGet(e);

        // An explicit setting is never passed over for the cache, even when the cache has the library.
        Touch(CachedLibrary);
        var fromEnv = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() => OnnxRuntimeLocator.Locate(
            new OnnxRuntimeOptions { CacheDirectory = _dir }, Env(("HESSIANML_ONNXRUNTIME", Path.Combine(_dir, "empty")))));
        StringAssert.Contains(fromEnv.Message, "(from HESSIANML_ONNXRUNTIME)");

        // The engine says the same.
        var engine = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() =>
            new OnnxRuntimeEngine(new OnnxRuntimeOptions { LibraryPath = missing }));
        AssertHowToGet(engine);
    }

    [TestMethod]
    public void Onnx_Locator_EmptyCacheWithoutDownloadIsAClearError()
    {
        var e = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() =>
            OnnxRuntimeLocator.Locate(new OnnxRuntimeOptions { CacheDirectory = _dir, AllowDownload = false }, Env()));
        StringAssert.Contains(e.Message, _dir);
        AssertHowToGet(e);
    }

    [TestMethod]
    public void Onnx_Locator_FailedFetchIsAClearErrorAndLeavesNoDebris()
    {
        // Port 9 (discard) on loopback: connection refused at once.
        var e = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() => OnnxRuntimeLocator.Locate(
            new OnnxRuntimeOptions { CacheDirectory = _dir, NpmRegistry = "http://127.0.0.1:9/" }, Env()));
        StringAssert.Contains(e.Message, "http://127.0.0.1:9/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz");
        AssertHowToGet(e);
        string folder = Path.Combine(_dir, "onnxruntime", "1.30.0");
        Assert.IsFalse(Directory.Exists(Path.Combine(folder, OnnxRuntimeLocator.Platform()!.Rid)));
        Assert.AreEqual(0, Directory.GetDirectories(folder).Length, "no temporary folder left behind");
    }

    [TestMethod]
    public void Onnx_Locator_AFileThatIsNotOnnxRuntimeIsAClearError()
    {
        string bogus = Touch("bogus/libonnxruntime.so.1");
        var e = Assert.ThrowsExactly<OnnxRuntimeNotFoundException>(() =>
            new OnnxRuntimeEngine(new OnnxRuntimeOptions { LibraryPath = bogus }));
        StringAssert.Contains(e.Message, bogus);
        Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }
}
