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

    internal ImageFeaturizerTransformer(ImageFeaturizerOptions options, EncoderModel encoder, EncoderSignature signature, IOnnxSession? session)
    {
        (_o, _encoder, _signature, _session) = (options, encoder, signature, session);
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
        [(OutputColumnName, ColumnType.Vector(ItemKind.Float32, EmbeddingDimension))], Metadata(0));

    // Row by row (a PredictionEngine, a loaded model) an unreadable image is an error: a row mapper cannot drop a row.
    private protected override Ml.ITransformer BuildSavedForm() => SavedForm.Build(this, Columns.Inputs, [(InputColumnName, "image")],
        t => new ImageFeaturizerMappingFactory().Estimator(t, ImageFeaturizerMappingFactory.Contract),
        [(ImageFeaturizerMappingFactory.OutputColumn, OutputColumnName)]);

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
        var featurized = Featurize(ColumnTable.From(input, InputColumnName), out var report);
        var skipped = report.Skipped.Select(s => s.Row).ToHashSet();
        return new AppendedColumnsView(input, featurized.DropColumns(InputColumnName),
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

    /// <summary>Featurises every row; <paramref name="report"/> says how many were encoded, which were skipped and how fast.</summary>
    public ColumnTable Featurize(Ml.IDataView input, out ImageFeaturizationReport report) => Featurize(input, out report, failOnBadImage: false);

    private ColumnTable Featurize(Ml.IDataView source, out ImageFeaturizationReport report, bool failOnBadImage)
    {
        ArgumentNullException.ThrowIfNull(source);
        Columns.Check(source.Schema);
        var input = ColumnTable.From(source);
        var clock = Stopwatch.StartNew();
        var session = Session();
        int rows = input.RowCount, size = ImageSize, plane = 3 * size * size, d = EmbeddingDimension, batch = BatchSize;
        var paths = input.GetColumn<string>(InputColumnName);
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
            Parallel.For(0, count, i =>
            {
                string? raw = paths.Span[start + i];
                if (string.IsNullOrWhiteSpace(raw))
                {
                    resolved[i] = raw ?? "";
                    errors[i] = "has no path (empty)";
                    return;
                }
                resolved[i] = Resolve(raw);
                if (!ImageDecoder.TryDecode(resolved[i], out var image, out var error))
                    errors[i] = error;
                else if (_o.Preprocessing == ImagePreprocessing.Clip)
                    ClipPreprocessing.Preprocess(image!, size, mean, std, pixels.AsSpan(i * plane, plane));
                else
                    ClipPreprocessing.PreprocessBytes(image!, size, pixels.AsSpan(i * plane, plane));
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
        var view = input;
        if (skipped.Count > 0)
        {
            view = view.SelectRows(kept);
            features = features[..(kept.Count * d)];
        }
        view = view.WithColumn(OutputColumnName, ColumnType.Vector(ItemKind.Float32, d), features);
        foreach (var kv in Metadata(skipped.Count)) view = view.WithMetadata(kv.Key, kv.Value);
        report = new ImageFeaturizationReport(rows, kept.Count, skipped, batches, clock.Elapsed.TotalSeconds);
        return view;
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
        string InputColumnName, string OutputColumnName, string? ImageFolder, int? GpuDeviceId, bool FallbackToCpu);

    private const string EncoderTensor = "encoder_onnx";

    public override void SaveState(ComponentStateWriter context)
    {
        context.SetOptions(new Saved(Encoder, _o.EmbedEncoder, EncoderSha256, _signature.InputName, _signature.OutputName, _signature.Dimension,
            _signature.FixedBatch, _o.ImageSize, _o.BatchSize, _o.Normalize, _o.Mean, _o.Std, _o.OnBadImage, _o.InputColumnName,
            _o.OutputColumnName, _o.ImageFolder, _o.GpuDeviceId, _o.FallbackToCpu));
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
        return new ImageFeaturizerTransformer(o, encoder, new EncoderSignature(s.InputName, s.OutputName, s.Dimension, s.FixedBatch), null);
    }
}
