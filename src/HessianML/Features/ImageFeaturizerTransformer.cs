using System.Diagnostics;
using System.Globalization;
using HessianML.Data;
using HessianML.Onnx;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Features;

/// <summary>
/// An image the featuriser could not read under <see cref="BadImageHandling.Fail"/>: names the file, its row and why.
/// An <see cref="IOException"/> (InvalidDataException is sealed), so callers that treat unreadable files as bad input catch it.
/// </summary>
public sealed class BadImageException(string path, int row, string reason)
    : IOException($"ImageFeaturizer: image '{path}' (row {row}) {reason}")
{
    public string ImagePath { get; } = path;
    public int Row { get; } = row;
    public string Reason { get; } = reason;
}

/// <summary>
/// The image featuriser (kind "ImageFeaturizer"): reads the String column of image paths and adds the Float32
/// vector[D] embedding column (default "features", unit length by default), plus the schema metadata
/// <c>encoder_path</c> ("resnet18" or the ONNX file's path), <c>encoder_sha256</c>, <c>embedding_dim</c> and
/// <c>image_size</c>. Under <see cref="BadImageHandling.Skip"/> rows whose image cannot be read are left out
/// (<c>skipped_images</c> in the metadata counts them; <see cref="Featurize(Microsoft.ML.IDataView, out ImageFeaturizationReport)"/>
/// lists them). Transform runs the encoder on batches of <see cref="BatchSize"/> images (ML.NET's OnnxTransformer
/// calls ONNX Runtime once per row).
/// <para>
/// A saved model carries the encoder's ONNX bytes (<see cref="ImageFeaturizerOptions.EmbedEncoder"/>), or its path and
/// SHA-256 only, and then refuses to run when the file is missing or changed. The ONNX session is opened on first use
/// and closed by <see cref="Dispose"/>.
/// </para>
/// </summary>
public sealed class ImageFeaturizerTransformer : HessianTransformer, IDisposable
{
    public const string KindName = "ImageFeaturizer";
    public const string EncoderPathKey = "encoder_path";
    public const string EncoderSha256Key = "encoder_sha256";
    public const string EmbeddingDimensionKey = "embedding_dim";
    public const string ImageSizeKey = "image_size";
    public const string SkippedImagesKey = "skipped_images";

    private static readonly object EngineGate = new();
    private static IOnnxInferenceEngine? _defaultEngine;

    /// <summary>
    /// The engine used when the options name none (and by loaded models): ONNX Runtime from the Microsoft.ML.OnnxRuntime
    /// package, created on first use and kept for the process. Set it to route every featuriser through another
    /// <see cref="IOnnxInferenceEngine"/>.
    /// </summary>
    public static IOnnxInferenceEngine DefaultEngine
    {
        get
        {
            lock (EngineGate) return _defaultEngine ??= new OnnxRuntimeEngine(new OnnxRuntimeOptions { LogSeverity = 3 });
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (EngineGate) _defaultEngine = value;
        }
    }

    private readonly ImageFeaturizerOptions _o;
    private readonly EncoderModel _encoder;
    private readonly EncoderSignature _signature;
    private readonly object _sessionGate = new();
    private IOnnxSession? _session;
    private bool _disposed;

    private readonly bool _imageInput;

    internal ImageFeaturizerTransformer(ImageFeaturizerOptions options, EncoderModel encoder, EncoderSignature signature, IOnnxSession? session,
        bool imageInput = false)
    {
        (_o, _encoder, _signature, _session, _imageInput) = (options, encoder, signature, session, imageInput);
    }

    public override string Kind => KindName;

    /// <summary>The encoder: "resnet18" or the ONNX file's absolute path.</summary>
    public string Encoder => _o.Encoder;

    /// <summary>SHA-256 of the encoder's ONNX bytes (lower-case hex), as they were when fitted.</summary>
    public string EncoderSha256 => _encoder.Sha256;

    /// <summary>Whether a saved model carries the encoder's bytes (<see cref="ImageFeaturizerOptions.EmbedEncoder"/>).</summary>
    public bool EmbedEncoder => _o.EmbedEncoder;

    /// <summary>The CUDA device asked for (null: CPU), and whether a missing GPU falls back to the CPU.</summary>
    public int? GpuDeviceId => _o.GpuDeviceId;

    public bool FallbackToCpu => _o.FallbackToCpu;

    /// <summary>The execution provider the encoder runs on, once its session is open ("CPUExecutionProvider", "CUDAExecutionProvider").</summary>
    public string ExecutionProvider => Session().ExecutionProvider;

    /// <summary>D, the embedding length.</summary>
    public int EmbeddingDimension => _signature.Dimension;

    public string EncoderInputName => _signature.InputName;
    public string EncoderOutputName => _signature.OutputName;
    public int ImageSize => _o.ImageSize;
    public bool Normalize => _o.Normalize;
    public BadImageHandling OnBadImage => _o.OnBadImage;
    public string InputColumnName => _o.InputColumnName;

    /// <summary>
    /// Whether the input column holds ML.NET images (<c>mlContext.Transforms.LoadImages</c>, fitted so) rather than file
    /// paths; the transformer then takes that type only, as its saved form does.
    /// </summary>
    public bool TakesImages => _imageInput;
    public string OutputColumnName => _o.OutputColumnName;

    /// <summary>Images per encoder call: the encoder's own fixed batch size if it has one, else the option.</summary>
    public int BatchSize => _signature.FixedBatch ?? _o.BatchSize;

    /// <summary>Receives one line per batch (settable after loading a model, which carries no callback).</summary>
    public Action<string>? Progress
    {
        get => _o.Progress;
        set => _o.Progress = value;
    }

    private IReadOnlyDictionary<string, string> Metadata(int? skipped)
    {
        var m = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [EncoderPathKey] = Encoder,
            [EncoderSha256Key] = EncoderSha256,
            [EmbeddingDimensionKey] = EmbeddingDimension.ToString(CultureInfo.InvariantCulture),
            [ImageSizeKey] = ImageSize.ToString(CultureInfo.InvariantCulture),
        };
        if (skipped is { } s) m[SkippedImagesKey] = s.ToString(CultureInfo.InvariantCulture);
        return m;
    }

    private protected override ComponentColumns Columns => new(KindName, [(InputColumnName, ColumnType.Scalar(ItemKind.String))],
        [(OutputColumnName, ColumnType.Vector(ItemKind.Float32, EmbeddingDimension))], Metadata(0),
        new Dictionary<string, ImageColumnKinds> { [InputColumnName] = _imageInput ? ImageColumnKinds.Images : ImageColumnKinds.Paths });

    // Row by row (a PredictionEngine, a loaded model) an unreadable image is an error: a row mapper cannot drop a row.
    // An Image input has its own mapping (the column type of a mapping's rows is fixed) and its own empty input view.
    private protected override Ml.ITransformer BuildSavedForm() => _imageInput
        ? SavedForm.Build(this, [], [(InputColumnName, "image")],
            t => new ImageFeaturizerMLImageMappingFactory().Estimator(t, ImageFeaturizerMLImageMappingFactory.Contract),
            [(ImageFeaturizerMappingFactory.OutputColumn, OutputColumnName)], EmptyImageView(InputColumnName))
        : SavedForm.Build(this, Columns.Inputs, [(InputColumnName, "image")],
            t => new ImageFeaturizerMappingFactory().Estimator(t, ImageFeaturizerMappingFactory.Contract),
            [(ImageFeaturizerMappingFactory.OutputColumn, OutputColumnName)]);

    // No rows, one Image column named as the component's input: LoadImages over an empty path column. (ML.NET 6's
    // ImageType attribute without a size cannot build its type, so a class with an MLImage field cannot give the schema.)
    private static Ml.IDataView EmptyImageView(string column)
    {
        const string paths = "__hessianml_paths";
        var empty = new ColumnTable.Builder().AddScalar(paths, Array.Empty<string>()).Build();
        return Ml.ImageEstimatorsCatalog.LoadImages(new Ml.MLContext(seed: 0).Transforms, column, null!, paths).Fit(empty).Transform(empty);
    }

    /// <summary>
    /// Featurises every row in batches. Rows whose image cannot be read are refused or (with
    /// <see cref="BadImageHandling.Skip"/>) left out; every input column passes through (a <see cref="ColumnTable"/> in
    /// gives a table out).
    /// </summary>
    public override Ml.IDataView Transform(Ml.IDataView input)
    {
        if (input is ColumnTable) return Featurize(input, out _);
        // Any other view: featurise its image column alone and append the embeddings, so that every input column passes
        // through whatever its type (a table holds numbers, text and vectors of known length only); rows whose image
        // was skipped are left out.
        ArgumentNullException.ThrowIfNull(input);
        Columns.Check(input.Schema);
        var featurized = _imageInput ? Featurize(input, out var report) : Featurize(ColumnTable.From(input, InputColumnName), out report);
        var skipped = report.Skipped.Select(s => s.Row).ToHashSet();
        return new AppendedColumnsView(input, _imageInput ? featurized : featurized.DropColumns(InputColumnName),
            skipped.Count == 0 ? null : [.. Enumerable.Range(0, report.InputRows).Where(r => !skipped.Contains(r))]);
    }

    internal override ColumnTable TransformTable(ColumnTable input) => Featurize(input, out _);

    /// <summary>One image's embedding, as the saved model computes it row by row; an unreadable image throws.</summary>
    internal float[] FeaturizeOne(string path)
    {
        var one = new ColumnTable.Builder().AddScalar(InputColumnName, new[] { path }).Build();
        var table = Featurize(one, out _, failOnBadImage: true);
        return table.GetColumn<float>(OutputColumnName).ToArray();
    }

    /// <summary>One ML.NET image's embedding (the row form of a featuriser fitted on images); an unusable image throws.</summary>
    internal float[] FeaturizeOne(Microsoft.ML.Data.MLImage? image)
    {
        var features = Encode(1, (_, _, images, errors, names) =>
        {
            names[0] = InputColumnName;
            if (image is null) errors[0] = "is missing (no image)";
            else if (ImageDecoder.TryFromMLImage(image, out var rgb, out var why)) images[0] = rgb;
            else errors[0] = why;
        }, failOnBadImage: true, out _, out _, out _);
        return features;
    }

    /// <summary>
    /// Featurises every row; <paramref name="report"/> says how many were encoded, which were skipped and how fast. With
    /// an Image input column (which a table cannot hold) the table has the embeddings alone; Transform passes every column through.
    /// </summary>
    public ColumnTable Featurize(Ml.IDataView input, out ImageFeaturizationReport report) => Featurize(input, out report, failOnBadImage: false);

    /// <summary>Reads images <c>start</c> .. <c>start + count - 1</c> into the arrays: the image, or why not, and a name for messages.</summary>
    private delegate void ImageReader(int start, int count, RgbImage?[] images, string?[] errors, string[] names);

    private ColumnTable Featurize(Ml.IDataView source, out ImageFeaturizationReport report, bool failOnBadImage)
    {
        ArgumentNullException.ThrowIfNull(source);
        Columns.Check(source.Schema);
        var clock = Stopwatch.StartNew();
        ColumnTable view;
        float[] features;
        List<int> kept;
        List<SkippedImage> skipped;
        int rows, batches;
        if (_imageInput)
        {
            // Images come one after the other from a cursor (LoadImages decodes in its getter); batches are read in turn.
            rows = checked((int)(source.GetRowCount() ?? CountRows(source)));
            var column = source.Schema[InputColumnName];
            using var cursor = source.GetRowCursor([column]);
            var get = cursor.GetGetter<Microsoft.ML.Data.MLImage?>(column);
            Microsoft.ML.Data.MLImage? current = null;
            try
            {
                features = Encode(rows, (start, count, images, errors, names) =>
                {
                    for (int i = 0; i < count; i++)
                    {
                        names[i] = InputColumnName;
                        if (!cursor.MoveNext()) throw new InvalidDataException($"ImageFeaturizer: column '{InputColumnName}' ended at row {start + i} of {rows}");
                        try
                        {
                            get(ref current);
                        }
                        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
                        {
                            errors[i] = $"cannot be loaded ({ex.GetBaseException().Message.ReplaceLineEndings(" ")})";
                            continue;
                        }
                        if (current is null) errors[i] = "is missing (no image)";
                        // (ImageDecoder copies the pixels: the getter may dispose or reuse the image on the next row.)
                        else if (ImageDecoder.TryFromMLImage(current, out var rgb, out var why)) images[i] = rgb;
                        else errors[i] = why;
                    }
                }, failOnBadImage, out kept, out skipped, out batches);
            }
            finally
            {
                current?.Dispose();
            }
            view = new ColumnTable.Builder().AddVector(OutputColumnName, EmbeddingDimension, features).Build();
        }
        else
        {
            var input = ColumnTable.From(source);
            rows = input.RowCount;
            var paths = input.GetColumn<string>(InputColumnName);
            features = Encode(rows, (start, count, images, errors, names) => Parallel.For(0, count, i =>
            {
                string? raw = paths.Span[start + i];
                if (string.IsNullOrWhiteSpace(raw))
                {
                    names[i] = raw ?? "";
                    errors[i] = "has no path (empty)";
                    return;
                }
                names[i] = Resolve(raw);
                if (ImageDecoder.TryDecode(names[i], out var image, out var error)) images[i] = image;
                else errors[i] = error;
            }), failOnBadImage, out kept, out skipped, out batches);
            view = skipped.Count > 0 ? input.SelectRows(kept) : input;
            view = view.WithColumn(OutputColumnName, ColumnType.Vector(ItemKind.Float32, EmbeddingDimension), features);
        }
        foreach (var kv in Metadata(skipped.Count)) view = view.WithMetadata(kv.Key, kv.Value);
        report = new ImageFeaturizationReport(rows, kept.Count, skipped, batches, clock.Elapsed.TotalSeconds);
        return view;
    }

    private static long CountRows(Ml.IDataView view)
    {
        long n = 0;
        using var cursor = view.GetRowCursor([]);
        while (cursor.MoveNext()) n++;
        return n;
    }

    /// <summary>
    /// Runs the encoder over <paramref name="rows"/> images in batches: the embeddings of the images kept (in row
    /// order), the rows kept and those skipped (or a <see cref="BadImageException"/>).
    /// </summary>
    private float[] Encode(int rows, ImageReader read, bool failOnBadImage, out List<int> keptRows, out List<SkippedImage> skippedRows,
        out int batchCount)
    {
        var clock = Stopwatch.StartNew();
        var session = Session();
        int size = ImageSize, plane = 3 * size * size, d = EmbeddingDimension, batch = BatchSize;
        var features = new float[(long)rows * d];
        var kept = new List<int>(rows);
        var skipped = new List<SkippedImage>();
        int batches = (rows + batch - 1) / batch;
        float[] mean = _o.Mean, std = _o.Std;
        // Decoding and preprocessing batch b + 1 (on the thread pool) overlaps the encoder's run on batch b: the encoder
        // rarely keeps every core busy, and a slow disk or a large JPEG then costs little.
        (float[] Pixels, string?[] Errors, string[] Resolved) Prepare(int b)
        {
            int start = b * batch, count = Math.Min(batch, rows - start);
            // A fixed-batch encoder gets zero padding after the last real image.
            var pixels = new float[(_signature.FixedBatch ?? count) * plane];
            var errors = new string?[count];
            var resolved = new string[count];
            var images = new RgbImage?[count];
            read(start, count, images, errors, resolved);
            Parallel.For(0, count, i =>
            {
                if (images[i] is not { } image) return;
                if (_o.Preprocessing == ImagePreprocessing.Clip)
                    ClipPreprocessing.Preprocess(image, size, mean, std, pixels.AsSpan(i * plane, plane));
                else
                    ClipPreprocessing.PreprocessBytes(image, size, pixels.AsSpan(i * plane, plane));
            });
            return (pixels, errors, resolved);
        }
        var next = batches > 0 ? Task.Run(() => Prepare(0)) : null;
        try
        {
            for (int b = 0; b < batches; b++)
            {
                int start = b * batch, count = Math.Min(batch, rows - start);
                var (pixels, errors, resolved) = next!.GetAwaiter().GetResult();
                int following = b + 1;
                next = following < batches ? Task.Run(() => Prepare(following)) : null;
                int n = 0;
                var rowsHere = new List<int>(count);
                for (int i = 0; i < count; i++)
                {
                    if (errors[i] is { } why)
                    {
                        if (failOnBadImage || _o.OnBadImage == BadImageHandling.Fail) throw new BadImageException(resolved[i], start + i, why);
                        skipped.Add(new SkippedImage(start + i, resolved[i], why));
                        continue;
                    }
                    if (n != i) Array.Copy(pixels, (long)i * plane, pixels, (long)n * plane, plane);
                    rowsHere.Add(start + i);
                    n++;
                }
                if (n > 0)
                {
                    int run = _signature.FixedBatch ?? n;
                    if (_signature.FixedBatch is null && n < count) pixels = pixels[..(n * plane)];
                    else Array.Clear(pixels, n * plane, pixels.Length - n * plane);
                    var output = Run(session, new OnnxTensor(pixels, run, 3, size, size), run);
                    for (int i = 0; i < n; i++)
                    {
                        var dst = features.AsSpan((kept.Count + i) * d, d);
                        output.AsSpan(i * d, d).CopyTo(dst);
                        if (_o.Normalize) UnitLength(dst);
                    }
                    kept.AddRange(rowsHere);
                }
                if (_o.Progress is { } say)
                {
                    double s = clock.Elapsed.TotalSeconds;
                    say(string.Create(CultureInfo.InvariantCulture,
                        $"featurize: batch {b + 1}/{batches}, {start + count}/{rows} images ({(start + count) / Math.Max(s, 1e-9):F1}/s){(skipped.Count > 0 ? $", {skipped.Count} skipped" : "")}"));
                }
            }
        }
        finally
        {
            // A refusal (BadImageException) can leave the next batch's preparation running: let it finish first.
            try { next?.Wait(); } catch (AggregateException) { }
        }
        (keptRows, skippedRows, batchCount) = (kept, skipped, batches);
        return skipped.Count > 0 ? features[..(kept.Count * d)] : features;
    }

    private string Resolve(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(_o.ImageFolder ?? Directory.GetCurrentDirectory(), path));

    private float[] Run(IOnnxSession session, OnnxTensor pixels, int n)
    {
        var outputs = session.Run(new Dictionary<string, OnnxTensor> { [_signature.InputName] = pixels }, [_signature.OutputName]);
        var y = outputs[_signature.OutputName];
        if (y.Rank != 2 || y.Shape[0] != n || y.Shape[1] != EmbeddingDimension)
            throw new InvalidDataException(
                $"ImageFeaturizer: encoder '{Encoder}' output '{_signature.OutputName}' has shape [{string.Join(", ", y.Shape)}] for {n} images; expected [{n}, {EmbeddingDimension}]");
        return y.Data;
    }

    /// <summary>Scales to unit Euclidean length in double (a zero vector stays zero: it has no direction to keep).</summary>
    internal static void UnitLength(Span<float> v)
    {
        double ss = 0;
        foreach (float x in v) ss += (double)x * x;
        if (ss == 0) return;
        double inv = 1 / Math.Sqrt(ss);
        for (int i = 0; i < v.Length; i++) v[i] = (float)(v[i] * inv);
    }

    private IOnnxSession Session()
    {
        lock (_sessionGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _session ??= _encoder.OpenSession(_o);
        }
    }

    /// <summary>Closes the encoder session (a later Transform is refused).</summary>
    public void Dispose()
    {
        lock (_sessionGate)
        {
            _disposed = true;
            _session?.Dispose();
            _session = null;
        }
    }

    // ---- persistence ----

    private sealed record Saved(string Encoder, bool Embedded, string Sha256, string InputName, string OutputName, int Dimension, int? FixedBatch,
        int ImageSize, int BatchSize, bool Normalize, float[] Mean, float[] Std, BadImageHandling OnBadImage,
        string InputColumnName, string OutputColumnName, string? ImageFolder, int? GpuDeviceId, bool FallbackToCpu, bool ImageInput = false);

    private const string EncoderTensor = "encoder_onnx";

    public override void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Saved(Encoder, _o.EmbedEncoder, EncoderSha256, _signature.InputName, _signature.OutputName, _signature.Dimension,
            _signature.FixedBatch, _o.ImageSize, _o.BatchSize, _o.Normalize, _o.Mean, _o.Std, _o.OnBadImage, _o.InputColumnName,
            _o.OutputColumnName, _o.ImageFolder, _o.GpuDeviceId, _o.FallbackToCpu, _imageInput));
        if (_o.EmbedEncoder)
        {
            var bytes = _encoder.Bytes();
            context.AddTensor(EncoderTensor, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(bytes), bytes.Length);
        }
    }

    [ComponentStateLoader(KindName)]
    internal static IComponentWithState Load(ComponentStateReader context) => FromSaved(context, context.GetOptions<Saved>());

    /// <summary>The kind saved before the featuriser was renamed (contract "HessianML.ClipImageFeaturizer.v1").</summary>
    internal const string ClipV1KindName = "ClipImageFeaturizer";

    // What ClipImageFeaturizer saved: an ONNX file referenced by path and SHA-256 (never embedded), CLIP preprocessing, CPU.
    private sealed record SavedClipV1(string ModelPath, string Sha256, string InputName, string OutputName, int Dimension, int? FixedBatch,
        int ImageSize, int BatchSize, bool Normalize, float[] Mean, float[] Std, BadImageHandling OnBadImage,
        string InputColumnName, string OutputColumnName, string? ImageFolder);

    /// <summary>Reads a ClipImageFeaturizer's state into today's featuriser (re-saved, it is written as an ImageFeaturizer).</summary>
    [ComponentStateLoader(ClipV1KindName)]
    internal static IComponentWithState LoadClipV1(ComponentStateReader context)
    {
        var s = context.GetOptions<SavedClipV1>();
        // A path spelling "resnet18" would be read as the built-in encoder; the old estimator recorded absolute paths only.
        if (!Path.IsPathRooted(s.ModelPath)) throw context.Fail($"has an encoder path '{s.ModelPath}' that is not absolute");
        return FromSaved(context, new Saved(s.ModelPath, false, s.Sha256, s.InputName, s.OutputName, s.Dimension, s.FixedBatch, s.ImageSize,
            s.BatchSize, s.Normalize, s.Mean, s.Std, s.OnBadImage, s.InputColumnName, s.OutputColumnName, s.ImageFolder, null, false));
    }

    private static ImageFeaturizerTransformer FromSaved(ComponentStateReader context, Saved s)
    {
        var o = new ImageFeaturizerOptions
        {
            Encoder = s.Encoder, EmbedEncoder = s.Embedded, ImageSize = s.ImageSize, BatchSize = s.BatchSize, Normalize = s.Normalize,
            Mean = s.Mean, Std = s.Std, OnBadImage = s.OnBadImage, InputColumnName = s.InputColumnName, OutputColumnName = s.OutputColumnName,
            ImageFolder = s.ImageFolder, GpuDeviceId = s.GpuDeviceId, FallbackToCpu = s.FallbackToCpu,
        };
        try
        {
            o.Validate();
        }
        catch (ArgumentException ex)
        {
            throw context.Fail($"has invalid options ({ex.Message})");
        }
        if (s.Dimension < 1 || string.IsNullOrEmpty(s.InputName) || string.IsNullOrEmpty(s.OutputName) || s.Sha256 is not { Length: 64 })
            throw context.Fail("has an incomplete encoder signature");
        EncoderModel encoder;
        if (s.Embedded)
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, byte>(
                context.GetInt8Tensor(EncoderTensor, context.GetShape(EncoderTensor))).ToArray();
            encoder = EncoderModel.FromBytes(s.Encoder, bytes);
        }
        else if (o.IsResNet18)
        {
            encoder = EncoderModel.FromBytes(s.Encoder, ResNet18Encoder.ModelBytes());
        }
        else
        {
            // Referenced, not embedded: it must be the very file the model was fitted with.
            if (!File.Exists(s.Encoder))
                throw context.Fail($"needs the image encoder '{s.Encoder}', which is not there (this model stores the encoder's path and SHA-256, not its bytes: saved with EmbedEncoder off, or by ClipImageFeaturizer)");
            encoder = EncoderModel.FromFile(s.Encoder);
        }
        if (!string.Equals(encoder.Sha256, s.Sha256, StringComparison.OrdinalIgnoreCase))
            throw context.Fail($"needs the image encoder '{s.Encoder}' as it was when fitted, but its bytes differ (SHA-256 {encoder.Sha256}, expected {s.Sha256})");
        return new ImageFeaturizerTransformer(o, encoder, new EncoderSignature(s.InputName, s.OutputName, s.Dimension, s.FixedBatch), null, s.ImageInput);
    }
}
