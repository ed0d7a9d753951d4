using System.Globalization;
using System.Security.Cryptography;
using HessianML.Data;
using HessianML.Onnx;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Features;

/// <summary>
/// Image paths -> image embeddings (METHOD §4b's featuriser f), from the built-in ResNet18 or an ONNX encoder the user
/// supplies (CLIP): <c>mlContext.Transforms.FeaturizeImages</c>. Nothing is learned: Fit opens the encoder, checks its
/// input is [N, 3, S, S] float and picks the embedding output, reads the embedding length D, records the model's
/// SHA-256, and returns the <see cref="ImageFeaturizerTransformer"/>. Its Transform decodes each image
/// (<see cref="ImageDecoder"/>), preprocesses it (<see cref="ClipPreprocessing"/>) and runs the encoder in batches.
/// </summary>
public sealed class ImageFeaturizerEstimator : Ml.IEstimator<ImageFeaturizerTransformer>
{
    private readonly ImageFeaturizerOptions _o;

    public ImageFeaturizerEstimator(ImageFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options.Clone();
    }

    // D is the encoder's, known once Fit has opened it.
    // The input: image paths (String) or ML.NET images (LoadImages); the transformer takes the kind it was fitted on.
    private ComponentColumns Columns => new(ImageFeaturizerTransformer.KindName, [(_o.InputColumnName, ColumnType.Scalar(ItemKind.String))],
        [(_o.OutputColumnName, ColumnType.VariableVector(ItemKind.Float32))], null,
        new Dictionary<string, ImageColumnKinds> { [_o.InputColumnName] = ImageColumnKinds.Either });

    /// <summary>The input shape plus the embedding column; a missing image column, or one neither String nor Image, throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => Columns.OutputShape(inputSchema);

    /// <summary>Opens and checks the encoder (the data is only schema-checked: nothing is learned from it).</summary>
    public ImageFeaturizerTransformer Fit(Ml.IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Columns.Check(input.Schema);
        return Open(_o, input.Schema[_o.InputColumnName].Type is Ml.Transforms.Image.ImageDataViewType);
    }

    /// <summary>The transformer for <paramref name="options"/> on image paths, without a data view (it needs none): the encoder opened and checked.</summary>
    public static ImageFeaturizerTransformer Open(ImageFeaturizerOptions options) => Open(options, imageInput: false);

    private static ImageFeaturizerTransformer Open(ImageFeaturizerOptions options, bool imageInput)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var o = options.Clone();
        EncoderModel encoder;
        if (o.IsResNet18)
        {
            if (o.ImageSize != ResNet18Encoder.ImageSize)
                throw new ArgumentException($"ImageFeaturizer: ResNet18 takes {ResNet18Encoder.ImageSize} x {ResNet18Encoder.ImageSize} images; ImageSize is {o.ImageSize}", nameof(options));
            o.Encoder = ResNet18Encoder.Name;
            encoder = EncoderModel.FromBytes(ResNet18Encoder.Name, ResNet18Encoder.ModelBytes());
        }
        else
        {
            string path = Path.GetFullPath(o.Encoder);
            if (!File.Exists(path)) throw new FileNotFoundException($"ImageFeaturizer: encoder '{o.Encoder}' not found", o.Encoder);
            o.Encoder = path;
            encoder = EncoderModel.FromFile(path);
        }
        var session = encoder.OpenSession(o);
        try
        {
            var signature = Inspect(session, o.Encoder, o.ImageSize, o.OutputName);
            return new ImageFeaturizerTransformer(o, encoder, signature, session, imageInput);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the encoder's signature: one float input of shape [N, 3, S, S] (each dimension fixed to that value or
    /// symbolic) and a float output [N, D] (by name, "image_embeds", or the first). D comes from the output's shape, or
    /// from one run on a zero image when it is symbolic.
    /// </summary>
    internal static EncoderSignature Inspect(IOnnxSession session, string modelPath, int size, string? outputName)
    {
        string Where() => $"ImageFeaturizer: encoder '{modelPath}'";
        if (session.Inputs.Count != 1)
            throw new InvalidDataException(
                $"{Where()} has {session.Inputs.Count} inputs ({string.Join("; ", session.Inputs)}); an image encoder takes one, pixel values [N, 3, {size}, {size}]");
        var input = session.Inputs[0];
        long[] expected = [-1, 3, size, size];
        bool shapeOk = input.IsTensor && input.ElementType == OnnxElementType.Float && input.Shape.Count == 4
                       && input.Shape.Select((d, i) => d < 0 || i == 0 || d == expected[i]).All(ok => ok);
        if (!shapeOk)
            throw new InvalidDataException(
                $"{Where()} input is {input}; expected Float[N, 3, {size}, {size}] (NCHW pixel values; ImageSize / --size must match the encoder)");
        int? fixedBatch = input.Shape[0] > 0 ? checked((int)input.Shape[0]) : null;

        OnnxValueInfo output;
        if (outputName is not null)
            output = session.Outputs.FirstOrDefault(v => v.Name == outputName)
                     ?? throw new InvalidDataException(
                         $"{Where()} has no output '{outputName}'; its outputs: {string.Join("; ", session.Outputs)}");
        else
            output = session.Outputs.FirstOrDefault(v => v.Name == "image_embeds") ?? session.Outputs[0];
        if (!output.IsTensor || output.ElementType != OnnxElementType.Float || output.Shape.Count != 2
            || (output.Shape[0] >= 0 && fixedBatch is null) || output.Shape[1] == 0)
            throw new InvalidDataException(
                $"{Where()} output {output} is not an embedding Float[N, D]; its outputs: {string.Join("; ", session.Outputs)} (choose one with OutputName / --output)");
        int dimension;
        if (output.Shape[1] > 0)
        {
            dimension = checked((int)output.Shape[1]);
        }
        else
        {
            int n = fixedBatch ?? 1;
            var probe = session.Run(new Dictionary<string, OnnxTensor> { [input.Name] = OnnxTensor.Zeros(n, 3, size, size) }, [output.Name]);
            var shape = probe[output.Name].Shape;
            if (shape.Count != 2 || shape[0] != n || shape[1] < 1)
                throw new InvalidDataException(
                    $"{Where()} output '{output.Name}' has shape [{string.Join(", ", shape)}] for {n} image(s); expected [{n}, D]");
            dimension = checked((int)shape[1]);
        }
        return new EncoderSignature(input.Name, output.Name, dimension, fixedBatch);
    }
}

/// <summary>What <see cref="ImageFeaturizerEstimator.Inspect"/> found: the input and output names, D, and a fixed batch size if the model has one.</summary>
internal sealed record EncoderSignature(string InputName, string OutputName, int Dimension, int? FixedBatch)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{InputName} -> {OutputName}[{Dimension}]{(FixedBatch is { } b ? $", batch fixed at {b}" : "")}");
}

/// <summary>
/// The encoder's ONNX model: where it came from (<see cref="ResNet18Encoder.Name"/> or a file's absolute path), its
/// SHA-256, and its bytes when held in memory (the built-in ResNet18, a model loaded from a zip that carries them); a
/// file's bytes are read only when a model that embeds them is saved.
/// </summary>
internal sealed class EncoderModel
{
    private byte[]? _bytes;

    private EncoderModel(string location, string sha256, byte[]? bytes) => (Location, Sha256, _bytes) = (location, sha256, bytes);

    public string Location { get; }

    public string Sha256 { get; }

    public static EncoderModel FromBytes(string location, byte[] bytes) => new(location, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes);

    public static EncoderModel FromFile(string path)
    {
        using var stream = File.OpenRead(path);
        return new EncoderModel(path, Convert.ToHexStringLower(SHA256.HashData(stream)), null);
    }

    /// <summary>The ONNX bytes (a file's read now, and checked against the SHA-256 taken when it was opened).</summary>
    public byte[] Bytes()
    {
        if (_bytes is not null) return _bytes;
        var bytes = File.ReadAllBytes(Location);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha != Sha256)
            throw new InvalidDataException($"ImageFeaturizer: encoder '{Location}' changed since it was opened (SHA-256 {sha}, was {Sha256})");
        return bytes;
    }

    /// <summary>A session on the engine and device the options name; a CUDA fallback is said through Progress.</summary>
    public IOnnxSession OpenSession(ImageFeaturizerOptions o)
    {
        var engine = o.Engine ?? ImageFeaturizerTransformer.DefaultEngine;
        IOnnxSession session;
        try
        {
            session = _bytes is not null ? engine.CreateSession(_bytes, o.Session()) : engine.CreateSession(Location, o.Session());
        }
        catch (OnnxRuntimeException ex) when (ex.ErrorCode == OrtErrorCode.ExecutionProviderFail && o.GpuDeviceId is { } gpu)
        {
            throw new GpuUnavailableException($"ImageFeaturizer: GPU {gpu}: {ex.OrtMessage}; or set FallbackToCpu (--fallback-to-cpu) to run on the CPU", ex);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"ImageFeaturizer: encoder '{Location}' cannot be loaded by ONNX Runtime: {ex.OrtMessage}", ex);
        }
        // The fallback is always said: through Progress when set, else on stderr (ML.NET logs it on the context's channel).
        if (session.CudaUnavailableReason is { } why)
            (o.Progress ?? Console.Error.WriteLine)($"ImageFeaturizer: GPU {o.GpuDeviceId} unavailable, running on the CPU (FallbackToCpu): {why}");
        return session;
    }
}
