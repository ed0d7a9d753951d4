using HessianML.Onnx;

namespace HessianML.Features;

/// <summary>What the image featuriser does with an image it cannot read (missing, damaged, not an image).</summary>
public enum BadImageHandling
{
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the file and the row: nothing is produced.</summary>
    Fail,

    /// <summary>Leave the row out of the output and list it in the <see cref="ImageFeaturizationReport"/>.</summary>
    Skip,
}

/// <summary>How pixels are turned into the encoder's input; follows from <see cref="ImageFeaturizerOptions.Encoder"/>.</summary>
public enum ImagePreprocessing
{
    /// <summary>OpenAI CLIP's: short side to S (Pillow bicubic), centre S x S crop, /255, (x - mean) / std (<see cref="ClipPreprocessing"/>).</summary>
    Clip,

    /// <summary>The same resize and crop, pixel values 0..255 as they are (RGB planes): what ML.NET's ExtractPixels hands its ResNet18, whose graph subtracts the mean.</summary>
    Bytes,
}

/// <summary>Options of <see cref="ImageFeaturizerEstimator"/>. Every default is stated with its reason.</summary>
public sealed class ImageFeaturizerOptions
{
    /// <summary>
    /// The image encoder: <c>"resnet18"</c> (default), the pretrained ResNet18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18
    /// package (<see cref="ResNet18Encoder"/>: 224 x 224 in, 512 features out, no download), chosen as the default so
    /// that the image path runs on a fresh clone with a real network; or the path of an ONNX file, e.g. a CLIP image
    /// encoder (README "Images and ONNX"): one float input [N, 3, S, S] (any dimension may be symbolic) and an embedding
    /// output [N, D], fed with CLIP's preprocessing.
    /// </summary>
    public string Encoder { get; set; } = ResNet18Encoder.Name;

    /// <summary>
    /// Whether a saved model carries the encoder's ONNX bytes. Default true: <c>mlContext.Model.Load</c> then needs
    /// nothing but the zip (ResNet18 adds 64 MB to it, a CLIP ViT-B/32 image encoder about 350 MB). False stores the
    /// encoder's path and SHA-256 only (ResNet18: the package's file beside the application), and a loaded model
    /// refuses to run if that file is gone or changed.
    /// </summary>
    public bool EmbedEncoder { get; set; } = true;

    /// <summary>
    /// The CUDA device to run the encoder on (ML.NET's <c>GpuDeviceId</c>). Default null: CPU. Needs the ONNX Runtime
    /// GPU package (build with <c>-p:HessianOnnxGpu=true</c>) and CUDA 13 + cuDNN 9 on the machine.
    /// </summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>
    /// When <see cref="GpuDeviceId"/> is set but CUDA cannot run, use the CPU and say why through <see cref="Progress"/>
    /// (or on stderr when Progress is null) (ML.NET's <c>FallbackToCpu</c>). Without it a missing GPU is a
    /// <see cref="GpuUnavailableException"/> naming what is missing. Default false: asking for a GPU and silently not getting one hides a setup problem.
    /// </summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>
    /// The ONNX output holding the embedding. Default null: "image_embeds" when the model has it (the projected
    /// embedding of Hugging Face's CLIPVisionModelWithProjection export, what CLIP compares), else the first output.
    /// </summary>
    public string? OutputName { get; set; }

    /// <summary>Input column: image file paths (String). Default "image", the column <see cref="ImageDataset"/> writes.</summary>
    public string InputColumnName { get; set; } = "image";

    /// <summary>Output column: the embedding (Float32 vector[D]). Default "features", what FeatureDistancePosterior reads.</summary>
    public string OutputColumnName { get; set; } = "features";

    /// <summary>
    /// Folder that relative paths in the input column are resolved against. Default null: the current directory, as
    /// any file argument; <see cref="ImageDataset"/> writes absolute paths, so its views need none.
    /// </summary>
    public string? ImageFolder { get; set; }

    /// <summary>
    /// S: the short side is resized to S and the centre S x S crop is encoded. Default 224, the input of ResNet18 and of
    /// CLIP ViT-B/32 (and ViT-B/16, RN50); ViT-L/14@336 needs 336. The encoder's input shape is checked against it.
    /// </summary>
    public int ImageSize { get; set; } = 224;

    /// <summary>
    /// Images per encoder call. Default 32: large enough that ONNX Runtime's per-call cost and the batch-level
    /// parallelism of its kernels pay off, small enough that a batch of ViT-B/32 activations stays in the low hundreds of
    /// MB. An encoder with a fixed batch dimension overrides it (the last batch is padded).
    /// </summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>
    /// Whether each embedding is scaled to unit length. Default true: CLIP is trained with a cosine-similarity loss
    /// (logits = scale * &lt;e_image / |e_image|, e_text / |e_text|&gt;), so only the direction of an embedding carries
    /// meaning and its norm varies from image to image for reasons unrelated to content; with unit vectors the squared
    /// distance of eq. 16 is 2 - 2 cos, CLIP's own similarity. An all-zero embedding stays zero.
    /// </summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Per-channel mean (R, G, B) subtracted after scaling to [0, 1], for an ONNX file's (CLIP) preprocessing. Default: CLIP's training statistics.</summary>
    public float[] Mean { get; set; } = [.. ClipPreprocessing.ClipMean];

    /// <summary>Per-channel standard deviation (R, G, B) divided by. Default: CLIP's training statistics.</summary>
    public float[] Std { get; set; } = [.. ClipPreprocessing.ClipStd];

    /// <summary>
    /// What to do with an unreadable image. Default <see cref="BadImageHandling.Fail"/>: leaving rows out changes the
    /// dataset (and the posterior's cells) without anyone asking; a user who expects damaged files says Skip, and
    /// then gets the list of what was left out.
    /// </summary>
    public BadImageHandling OnBadImage { get; set; } = BadImageHandling.Fail;

    /// <summary>The inference engine. Default null: <see cref="ImageFeaturizerTransformer.DefaultEngine"/> (ONNX Runtime from the Microsoft.ML.OnnxRuntime package).</summary>
    public IOnnxInferenceEngine? Engine { get; set; }

    /// <summary>Session options (threads). Default null: ONNX Runtime's defaults, one intra-op thread per core. CUDA follows <see cref="GpuDeviceId"/>.</summary>
    public OnnxSessionOptions? SessionOptions { get; set; }

    /// <summary>Receives one line per batch (rows done, images per second). Default null: silent.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>Whether <see cref="Encoder"/> names the built-in ResNet18 (case-insensitive).</summary>
    public bool IsResNet18 => string.Equals(Encoder, ResNet18Encoder.Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The preprocessing the encoder takes.</summary>
    public ImagePreprocessing Preprocessing => IsResNet18 ? ImagePreprocessing.Bytes : ImagePreprocessing.Clip;

    /// <summary>The session options with CUDA as <see cref="GpuDeviceId"/> and <see cref="FallbackToCpu"/> say.</summary>
    internal OnnxSessionOptions Session()
    {
        var o = SessionOptions ?? new OnnxSessionOptions();
        return new OnnxSessionOptions
        {
            IntraOpThreads = o.IntraOpThreads, InterOpThreads = o.InterOpThreads, GraphOptimization = o.GraphOptimization,
            Cuda = GpuDeviceId is null ? OnnxCudaUse.Off : FallbackToCpu ? OnnxCudaUse.IfAvailable : OnnxCudaUse.Required,
            CudaDeviceId = GpuDeviceId ?? 0,
        };
    }

    internal ImageFeaturizerOptions Clone()
    {
        var c = (ImageFeaturizerOptions)MemberwiseClone();
        c.Mean = (float[])Mean.Clone();
        c.Std = (float[])Std.Clone();
        return c;
    }

    internal void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException("ImageFeaturizer: " + what, nameof(ImageFeaturizerOptions));
        }
        Check(!string.IsNullOrWhiteSpace(Encoder), $"Encoder must be \"{ResNet18Encoder.Name}\" or the path of an ONNX image encoder");
        Check(GpuDeviceId is null or >= 0, $"GpuDeviceId {GpuDeviceId} must be a device number (>= 0) or null for the CPU");
        Check(ImageSize >= 1 && ImageSize <= 4096, $"ImageSize {ImageSize} must be in [1, 4096]");
        Check(BatchSize >= 1 && BatchSize <= 65536, $"BatchSize {BatchSize} must be in [1, 65536]");
        Check(Mean is { Length: 3 } && Mean.All(float.IsFinite), "Mean needs 3 finite values (R, G, B)");
        Check(Std is { Length: 3 } && Std.All(s => s > 0 && float.IsFinite(s)), "Std needs 3 positive finite values (R, G, B)");
        Check(!string.IsNullOrWhiteSpace(InputColumnName), "InputColumnName must be a non-empty column name");
        Check(!string.IsNullOrWhiteSpace(OutputColumnName), "OutputColumnName must be a non-empty column name");
        Check(Enum.IsDefined(OnBadImage), $"OnBadImage {OnBadImage} is not Fail or Skip");
    }
}

/// <summary>One image left out under <see cref="BadImageHandling.Skip"/>: its row in the input, its path, and why.</summary>
public sealed record SkippedImage(int Row, string Path, string Reason);

/// <summary>What one <see cref="ImageFeaturizerTransformer.Featurize(Microsoft.ML.IDataView, out ImageFeaturizationReport)"/> did.</summary>
public sealed record ImageFeaturizationReport(int InputRows, int OutputRows, IReadOnlyList<SkippedImage> Skipped, int Batches, double Seconds)
{
    /// <summary>Images encoded per second, decoding and preprocessing included.</summary>
    public double ImagesPerSecond => Seconds > 0 ? OutputRows / Seconds : double.NaN;
}
