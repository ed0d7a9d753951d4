using System.Globalization;
using System.Security.Cryptography;
using HessianML.Data;
using HessianML.Onnx;
using HessianML.Pipeline;
using HessianML.Pipeline.MlNet;
using Ml = Microsoft.ML;

namespace HessianML.Features;

/// <summary>
/// Image paths -> CLIP image embeddings (METHOD §4b's featuriser f). Nothing is learned: Fit opens the encoder, checks
/// its input is [N, 3, S, S] float and picks the embedding output, reads the embedding length D, records the file's
/// SHA-256, and returns the <see cref="ClipImageFeaturizerTransformer"/>. Its Transform decodes each image
/// (<see cref="ImageDecoder"/>), preprocesses it as CLIP does (<see cref="ClipPreprocessing"/>) and runs the encoder
/// in batches.
/// </summary>
public sealed class ClipImageFeaturizerEstimator : Ml.IEstimator<ClipImageFeaturizerTransformer>
{
    private readonly ClipImageFeaturizerOptions _o;

    public ClipImageFeaturizerEstimator(ClipImageFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options.Clone();
    }

    // D is the encoder's, known once Fit has opened it.
    private ComponentColumns Columns => new(ClipImageFeaturizerTransformer.KindName, [(_o.InputColumnName, ColumnType.Scalar(ItemKind.String))],
        [(_o.OutputColumnName, ColumnType.VariableVector(ItemKind.Float32))]);

    /// <summary>The input shape plus the embedding column; a missing or non-text image column throws, naming it.</summary>
    public Ml.SchemaShape GetOutputSchema(Ml.SchemaShape inputSchema) => Columns.OutputShape(inputSchema);

    /// <summary>Opens and checks the encoder (the data is only schema-checked: nothing is learned from it).</summary>
    public ClipImageFeaturizerTransformer Fit(Ml.IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Columns.Check(input.Schema);
        return Open(_o);
    }

    /// <summary>The transformer for <paramref name="options"/> without a data view (it needs none): the encoder opened and checked.</summary>
    public static ClipImageFeaturizerTransformer Open(ClipImageFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var o = options.Clone();
        string path = Path.GetFullPath(o.ModelPath);
        if (!File.Exists(path)) throw new FileNotFoundException($"ClipImageFeaturizer: encoder '{o.ModelPath}' not found", o.ModelPath);
        string sha = Sha256Of(path);
        var engine = o.Engine ?? ClipImageFeaturizerTransformer.DefaultEngine;
        var session = OpenSession(engine, path, o.SessionOptions);
        try
        {
            var signature = Inspect(session, o.ModelPath, o.ImageSize, o.OutputName);
            o.ModelPath = path;
            return new ClipImageFeaturizerTransformer(o, sha, signature, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    internal static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    internal static IOnnxSession OpenSession(IOnnxInferenceEngine engine, string path, OnnxSessionOptions? options)
    {
        try
        {
            return engine.CreateSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"ClipImageFeaturizer: encoder '{path}' cannot be loaded by ONNX Runtime: {ex.OrtMessage}", ex);
        }
    }

    /// <summary>
    /// Checks the encoder's signature: one float input of shape [N, 3, S, S] (each dimension fixed to that value or
    /// symbolic) and a float output [N, D] (by name, "image_embeds", or the first). D comes from the output's shape, or
    /// from one run on a zero image when it is symbolic.
    /// </summary>
    internal static EncoderSignature Inspect(IOnnxSession session, string modelPath, int size, string? outputName)
    {
        string Where() => $"ClipImageFeaturizer: encoder '{modelPath}'";
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

/// <summary>What <see cref="ClipImageFeaturizerEstimator.Inspect"/> found: the input and output names, D, and a fixed batch size if the model has one.</summary>
internal sealed record EncoderSignature(string InputName, string OutputName, int Dimension, int? FixedBatch)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{InputName} -> {OutputName}[{Dimension}]{(FixedBatch is { } b ? $", batch fixed at {b}" : "")}");
}
