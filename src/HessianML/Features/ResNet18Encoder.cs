using Google.Protobuf;
using HessianML.Onnx.Protos;

namespace HessianML.Features;

/// <summary>
/// The pretrained ResNet18 that ships in the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (ML.NET's
/// <c>DnnFeaturizeImage</c> encoder; no download): its two ONNX files, which the package's build props copy beside the
/// application as <c>DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx</c> (RGB -> BGR, minus the ImageNet mean image,
/// pixel values 0..255) and <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> (CNTK export, [1, 3, 224, 224] ->
/// [1, 512, 1, 1]), fused here into one batched model: <c>pixels</c> Float[batch, 3, 224, 224] (RGB planes, 0..255) ->
/// <c>features</c> Float[batch, 512].
/// <para>
/// WHY fused and re-batched: ML.NET runs the two files one row at a time (batch fixed at 1 in both); the graphs hold no
/// reshape, so making the batch dimension symbolic (and dropping the stored intermediate shapes, which say 1) lets one
/// ONNX Runtime call encode a whole batch, and one model means one call per batch, not two.
/// </para>
/// </summary>
public static class ResNet18Encoder
{
    /// <summary>What <see cref="ImageFeaturizerOptions.Encoder"/> and <c>hessian featurize --encoder</c> call it.</summary>
    public const string Name = "resnet18";

    /// <summary>The input side: 224 x 224 pixels.</summary>
    public const int ImageSize = 224;

    /// <summary>The embedding length.</summary>
    public const int Dimension = 512;

    public const string InputName = "pixels", OutputName = "features";

    private const string PrepFile = "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";
    private const string NetFile = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    private static readonly Lazy<byte[]> Fused = new(() => Fuse(Read(PrepFile), Read(NetFile)));

    /// <summary>The folder the package's files are looked up in: the application's (AppContext.BaseDirectory).</summary>
    public static string Folder => AppContext.BaseDirectory;

    /// <summary>The fused, batched model (built once per process from the package's files).</summary>
    public static byte[] ModelBytes() => Fused.Value;

    private static ModelProto Read(string relative)
    {
        string path = Path.Combine(Folder, relative);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"ResNet18 encoder: '{path}' not found; it comes with the Microsoft.ML.DnnImageFeaturizer.ResNet18 package, whose build " +
                "props copy DnnImageModels/ beside an application that references the package (add a PackageReference to it)", path);
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"ResNet18 encoder: '{path}' is not an ONNX model ({ex.Message})", ex);
        }
    }

    /// <summary>prep -> net -> Flatten, the batch dimension symbolic.</summary>
    internal static byte[] Fuse(ModelProto prep, ModelProto net)
    {
        GraphProto p = prep.Graph, n = net.Graph;
        if (p.Input.Count != 1 || p.Output.Count != 1 || n.Input.Count(i => n.Initializer.All(t => t.Name != i.Name)) != 1 || n.Output.Count != 1)
            throw new InvalidDataException("ResNet18 encoder: the package's ONNX files do not have the expected one input and one output each");
        string prepIn = p.Input[0].Name, prepOut = p.Output[0].Name;
        string netIn = n.Input.First(i => n.Initializer.All(t => t.Name != i.Name)).Name, netOut = n.Output[0].Name;
        var names = n.Node.SelectMany(x => x.Output).Concat(n.Initializer.Select(t => t.Name)).ToHashSet(StringComparer.Ordinal);
        var clash = p.Node.SelectMany(x => x.Output).Concat(p.Initializer.Select(t => t.Name)).Where(names.Contains).ToList();
        if (clash.Count > 0) throw new InvalidDataException($"ResNet18 encoder: the two graphs share names ({string.Join(", ", clash)})");

        var graph = new GraphProto { Name = "resnet18_batched" };
        foreach (var node in p.Node)
        {
            var copy = node.Clone();
            Rename(copy.Input, prepIn, InputName);
            graph.Node.Add(copy);
        }
        foreach (var node in n.Node)
        {
            var copy = node.Clone();
            Rename(copy.Input, netIn, prepOut);
            graph.Node.Add(copy);
        }
        graph.Node.Add(new NodeProto
        {
            OpType = "Flatten", Name = "hessianml_flatten", Input = { netOut }, Output = { OutputName },
            Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
        });
        graph.Initializer.AddRange(p.Initializer);
        graph.Initializer.AddRange(n.Initializer);
        // IR 3 lists initializers among the inputs too; keep those, and give the one real input a symbolic batch.
        graph.Input.Add(Tensor(InputName, "batch", 3, ImageSize, ImageSize));
        graph.Input.AddRange(p.Input.Concat(n.Input).Where(i => i.Name != prepIn && i.Name != netIn));
        graph.Output.Add(Tensor(OutputName, "batch", Dimension));
        // value_info is left out: it records every intermediate shape with batch 1; ONNX Runtime infers them again.
        var model = new ModelProto
        {
            IrVersion = Math.Max(prep.IrVersion, net.IrVersion), ProducerName = "HessianML (ResNet18 of Microsoft.ML.DnnImageFeaturizer.ResNet18)",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Math.Max(Opset(prep), Opset(net)) });
        return model.ToByteArray();
    }

    private static long Opset(ModelProto m) => m.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

    private static void Rename(Google.Protobuf.Collections.RepeatedField<string> names, string from, string to)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == from) names[i] = to;
    }

    private static ValueInfoProto Tensor(string name, string batch, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }
}
