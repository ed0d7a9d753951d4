using HessianML.Onnx;
using HessianML.Onnx.Protos;
using Google.Protobuf;
using static HessianML.Onnx.Protos.AttributeProto.Types;

namespace HessianML.Tests.Onnx;

/// <summary>The builder and the messages generated from onnx.proto, without ONNX Runtime: write, parse back, compare.</summary>
[TestClass]
public sealed class OnnxModelBuilderTests
{
    [TestMethod]
    public void Onnx_Builder_RoundTripsThroughTheGeneratedParser()
    {
        var b = new OnnxModelBuilder("mlp") { DocString = "two layers" };
        b.Metadata["purpose"] = "test";
        var x = b.AddInput("x", "batch", 3);
        var w = b.AddInitializer("W", [1f, -2f, 3.5f, 0.25f, 5f, -6f], 2, 3);
        var shape = b.AddInitializer("shape", [-1L, 2L], 2);
        var h = b.Gemm(x, w, transB: true, alpha: 0.5f);
        b.Conv(b.Identity(h), w, kernelShape: [1, 1], pads: [0, 0, 0, 0], output: "c");
        b.AddNode("Reshape", [h, shape], "y");
        b.AddNode("Cast", [h], "s", OnnxAttribute.String("note", "héllo"), OnnxAttribute.Floats("fs", 1.5f, -2f));
        b.AddOutput("y", "batch", 2);

        var bytes = b.ToBytes();
        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.AreEqual(OnnxModelBuilder.DefaultIrVersion, model.IrVersion);
        Assert.AreEqual("HessianML", model.ProducerName);
        Assert.AreEqual(1, model.OpsetImport.Count);
        Assert.AreEqual("", model.OpsetImport[0].Domain);
        Assert.AreEqual(17L, model.OpsetImport[0].Version);
        Assert.AreEqual("purpose", model.MetadataProps[0].Key);
        Assert.AreEqual("test", model.MetadataProps[0].Value);

        var g = model.Graph!;
        Assert.AreEqual("mlp", g.Name);
        Assert.AreEqual("two layers", g.DocString);
        Assert.AreEqual("x", g.Input[0].Name);
        var xShape = g.Input[0].Type!.TensorType!;
        Assert.AreEqual((int)OnnxElementType.Float, xShape.ElemType);
        Assert.AreEqual("batch", xShape.Shape!.Dim[0].DimParam);
        Assert.AreEqual(TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam, xShape.Shape.Dim[0].ValueCase);
        Assert.AreEqual(3L, xShape.Shape.Dim[1].DimValue);
        Assert.AreEqual(TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue, xShape.Shape.Dim[1].ValueCase);
        Assert.AreEqual("y", g.Output[0].Name);

        CollectionAssert.AreEqual(new[] { 1f, -2f, 3.5f, 0.25f, 5f, -6f }, g.Initializer[0].ToFloats());
        CollectionAssert.AreEqual(new long[] { 2, 3 }, g.Initializer[0].Dims);
        Assert.AreEqual((int)OnnxElementType.Int64, g.Initializer[1].DataType);
        Assert.AreEqual(16, g.Initializer[1].RawData.Length);

        CollectionAssert.AreEqual(new[] { "Gemm", "Identity", "Conv", "Reshape", "Cast" }, g.Node.Select(n => n.OpType).ToArray());
        var gemm = g.Node[0];
        CollectionAssert.AreEqual(new[] { "x", "W" }, gemm.Input);
        CollectionAssert.AreEqual(new[] { "gemm_0" }, gemm.Output);
        var alpha = gemm.Attribute.Single(a => a.Name == "alpha");
        Assert.AreEqual(AttributeType.Float, alpha.Type);
        Assert.AreEqual(0.5f, alpha.F);
        Assert.AreEqual(1L, gemm.Attribute.Single(a => a.Name == "transB").I);
        Assert.IsFalse(gemm.Attribute.Any(a => a.Name == "beta"), "defaults are not written");
        var conv = g.Node[2];
        Assert.AreEqual("c", conv.Output[0]);
        CollectionAssert.AreEqual(new long[] { 1, 1 }, conv.Attribute.Single(a => a.Name == "kernel_shape").Ints);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0 }, conv.Attribute.Single(a => a.Name == "pads").Ints);
        var cast = g.Node[4];
        Assert.AreEqual("héllo", cast.Attribute.Single(a => a.Name == "note").S.ToStringUtf8());
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, cast.Attribute.Single(a => a.Name == "fs").Floats);

        // Writing to a stream gives the same bytes as ToByteArray.
        var stream = new MemoryStream();
        model.WriteTo(stream);
        CollectionAssert.AreEqual(bytes, stream.ToArray());
    }

    [TestMethod]
    public void Onnx_Builder_ConstantCarriesATensorAttribute()
    {
        var b = new OnnxModelBuilder();
        b.Constant([1f, 2f, 3f, 4f], [2, 2], output: "k");
        b.AddOutput("k", 2, 2);
        var attr = ModelProto.Parser.ParseFrom(b.ToBytes()).Graph!.Node[0].Attribute[0];
        Assert.AreEqual(AttributeType.Tensor, attr.Type);
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4f }, attr.T!.ToFloats());
    }

    [TestMethod]
    public void Onnx_Builder_RefusesGraphsOutOfOrderOrIncomplete()
    {
        var b = new OnnxModelBuilder();
        b.AddInput("x", 2);
        var e = Assert.ThrowsExactly<ArgumentException>(() => b.Relu("nowhere"));
        StringAssert.Contains(e.Message, "'nowhere'");
        Assert.ThrowsExactly<ArgumentException>(() => b.AddInput("x", 3), "names are unique");
        Assert.ThrowsExactly<ArgumentException>(() => b.AddInitializer("w", [1f, 2f, 3f], 2, 2), "data length must match dims");
        Assert.ThrowsExactly<InvalidOperationException>(() => b.Build(), "no outputs");
        b.AddOutput("y", 2);
        var missing = Assert.ThrowsExactly<InvalidOperationException>(() => b.Build());
        StringAssert.Contains(missing.Message, "'y'");
        b.Relu("x", output: "y");
        Assert.IsNotNull(b.Build());
    }
}
