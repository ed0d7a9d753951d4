using HessianML.Onnx;

namespace HessianML.Features;

/// <summary>What the CLIP featuriser does with an image it cannot read (missing, damaged, not an image).</summary>
public enum BadImageHandling
{
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the file and the row: nothing is produced.</summary>
    Fail,

    /// <summary>Leave the row out of the output and list it in the <see cref="ImageFeaturizationReport"/>.</summary>
    Skip,
}

/// <summary>Options of <see cref="ClipImageFeaturizerEstimator"/>. Every default is stated with its reason.</summary>
public sealed class ClipImageFeaturizerOptions
{
    /// <summary>
    /// The image encoder, an ONNX file (required): one float input [N, 3, S, S] (any of the dimensions may be symbolic)
    /// and an embedding output [N, D]. A CLIP ViT-B/32 image encoder is about 350 MB, so a saved model stores this
    /// path and the file's SHA-256, not its bytes, and refuses to load when the file is gone or changed.
    /// </summary>
    public string ModelPath { get; set; } = "";

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
    /// S: the short side is resized to S and the centre S x S crop is encoded. Default 224, the input of CLIP ViT-B/32
    /// (and ViT-B/16, RN50); ViT-L/14@336 needs 336. The encoder's input shape is checked against it.
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

    /// <summary>Per-channel mean (R, G, B) subtracted after scaling to [0, 1]. Default: CLIP's training statistics.</summary>
    public float[] Mean { get; set; } = [.. ClipPreprocessing.ClipMean];

    /// <summary>Per-channel standard deviation (R, G, B) divided by. Default: CLIP's training statistics.</summary>
    public float[] Std { get; set; } = [.. ClipPreprocessing.ClipStd];

    /// <summary>
    /// What to do with an unreadable image. Default <see cref="BadImageHandling.Fail"/>: leaving rows out changes the
    /// dataset (and the posterior's cells) without anyone asking; a user who expects damaged files says Skip, and
    /// then gets the list of what was left out.
    /// </summary>
    public BadImageHandling OnBadImage { get; set; } = BadImageHandling.Fail;

    /// <summary>The inference engine. Default null: <see cref="ClipImageFeaturizerTransformer.DefaultEngine"/> (ONNX Runtime from the Microsoft.ML.OnnxRuntime package).</summary>
    public IOnnxInferenceEngine? Engine { get; set; }

    /// <summary>Session options (threads, CUDA). Default null: ONNX Runtime's defaults, one intra-op thread per core, CPU.</summary>
    public OnnxSessionOptions? SessionOptions { get; set; }

    /// <summary>Receives one line per batch (rows done, images per second). Default null: silent.</summary>
    public Action<string>? Progress { get; set; }

    internal ClipImageFeaturizerOptions Clone()
    {
        var c = (ClipImageFeaturizerOptions)MemberwiseClone();
        c.Mean = (float[])Mean.Clone();
        c.Std = (float[])Std.Clone();
        return c;
    }

    internal void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException("ClipImageFeaturizer: " + what, nameof(ClipImageFeaturizerOptions));
        }
        Check(!string.IsNullOrWhiteSpace(ModelPath), "ModelPath must name the image encoder's ONNX file");
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

/// <summary>What one <see cref="ClipImageFeaturizerTransformer.Featurize(Microsoft.ML.IDataView, out ImageFeaturizationReport)"/> did.</summary>
public sealed record ImageFeaturizationReport(int InputRows, int OutputRows, IReadOnlyList<SkippedImage> Skipped, int Batches, double Seconds)
{
    /// <summary>Images encoded per second, decoding and preprocessing included.</summary>
    public double ImagesPerSecond => Seconds > 0 ? OutputRows / Seconds : double.NaN;
}
