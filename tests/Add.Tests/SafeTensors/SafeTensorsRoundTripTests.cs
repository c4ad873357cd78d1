using System.Runtime.InteropServices;
using Add.Engine.SafeTensors;

namespace Add.Tests.SafeTensors;

public class SafeTensorsRoundTripTests
{
    [Theory]
    [InlineData(SafeTensorsDType.F64)]
    [InlineData(SafeTensorsDType.F32)]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    [InlineData(SafeTensorsDType.I64)]
    [InlineData(SafeTensorsDType.I32)]
    [InlineData(SafeTensorsDType.I16)]
    [InlineData(SafeTensorsDType.I8)]
    [InlineData(SafeTensorsDType.U64)]
    [InlineData(SafeTensorsDType.U32)]
    [InlineData(SafeTensorsDType.U16)]
    [InlineData(SafeTensorsDType.U8)]
    [InlineData(SafeTensorsDType.BOOL)]
    public void EveryDTypeRoundTripsBitExact(SafeTensorsDType dtype)
    {
        using var dir = new TempDir();
        var rng = new Random(42);
        long[] shape = [3, 5, 7];
        var bytes = new byte[3 * 5 * 7 * SafeTensorsDTypes.SizeOf(dtype)];
        rng.NextBytes(bytes);
        if (dtype == SafeTensorsDType.BOOL) for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        var scalar = new byte[SafeTensorsDTypes.SizeOf(dtype)];
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Add("a.weight", dtype, shape, bytes);
        writer.Add("scalar", dtype, [], scalar);
        writer.Add("empty", dtype, [0, 4], []);
        writer.Save(dir.File("t.safetensors"));

        using var file = SafeTensorsFile.Open(dir.File("t.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["a.weight", "scalar", "empty"], file.Tensors.Select(t => t.Name));
        var info = file.Get("a.weight");
        Assert.Equal(dtype, info.DType);
        Assert.Equal(shape, info.Shape);
        Assert.True(file.GetBytes(info).SequenceEqual(bytes));
        Assert.Empty(file.Get("scalar").Shape);
        Assert.Equal(1, file.Get("scalar").ElementCount);
        Assert.Equal(0, file.Get("empty").ByteLength);
    }

    [Fact]
    public void HalfAndBFloat16WidenToTheSameFloats()
    {
        using var dir = new TempDir();
        float[] values = [0f, 1f, -2.5f, 65504f, 1e-3f, float.NegativeInfinity];
        var bf16 = values.Select(v => (ushort)(BitConverter.SingleToInt32Bits(v) >> 16)).ToArray();
        new SafeTensorsWriter()
            .AddAsF16("h", values, values.Length)
            .Add("b", SafeTensorsDType.BF16, [values.Length], MemoryMarshal.AsBytes(bf16.AsSpan()))
            .Add("f", values, values.Length)
            .Save(dir.File("w.safetensors"));
        using var file = SafeTensorsFile.Open(dir.File("w.safetensors"));
        Assert.Equal(values.Select(v => (float)(Half)v), file.ReadFloat32("h"));
        Assert.Equal(values.Select(v => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) & unchecked((int)0xFFFF0000))), file.ReadFloat32("b"));
        Assert.Equal(values, file.ReadFloat32("f"));
    }

    [Fact]
    public void ReadingTheWrongTypeOrAMissingNameFailsWithTheName()
    {
        using var dir = new TempDir();
        new SafeTensorsWriter().Add("ids", new long[] { 1, 2 }, 2).Save(dir.File("x.safetensors"));
        using var file = SafeTensorsFile.Open(dir.File("x.safetensors"));
        Assert.Equal([1L, 2L], file.ReadInt64("ids"));
        Assert.Contains("'ids' is I64", Assert.Throws<InvalidDataException>(() => file.ReadFloat32("ids")).Message);
        Assert.Contains("no tensor named 'nope'", Assert.Throws<KeyNotFoundException>(() => file.Get("nope")).Message);
    }

    [Fact]
    public void WriterRejectsMismatchedByteCountsAndDuplicates()
    {
        var w = new SafeTensorsWriter();
        Assert.Contains("needs 24 bytes", Assert.Throws<ArgumentException>(() => w.Add("x", SafeTensorsDType.F32, [2, 3], new byte[20])).Message);
        w.Add("y", new float[] { 1 }, 1);
        Assert.Contains("already added", Assert.Throws<ArgumentException>(() => w.Add("y", new float[] { 1 }, 1)).Message);
    }

    [Fact]
    public void DataSectionIsEightByteAligned()
    {
        using var dir = new TempDir();
        new SafeTensorsWriter().Add("odd_name_x", new byte[] { 1, 2, 3 }, 3).Save(dir.File("a.safetensors"));
        var raw = File.ReadAllBytes(dir.File("a.safetensors"));
        Assert.Equal(0UL, (8 + BitConverter.ToUInt64(raw, 0)) % 8);
    }
}
