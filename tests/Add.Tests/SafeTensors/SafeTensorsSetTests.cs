using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Add.Engine.SafeTensors;

namespace Add.Tests.SafeTensors;

/// <summary>Checkpoints as one name space over shards, the finite check on widening, and the writer's deferred tensors.</summary>
public sealed class SafeTensorsSetTests
{
    static void WriteShard(string path, params string[] names)
    {
        var w = new SafeTensorsWriter();
        foreach (var n in names) w.Add(n, [1f, 2f], 2);
        w.Save(path);
    }

    static string WriteIndex(TempDir dir, params (string Tensor, string File)[] map)
    {
        var weightMap = new JsonObject();
        foreach (var (t, f) in map) weightMap[t] = f;
        var path = dir.File("model.safetensors.index.json");
        File.WriteAllText(path, new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 16 }, ["weight_map"] = weightMap }.ToJsonString());
        return path;
    }

    [Fact]
    public void ShardsReadAsOneNameSpace()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("a.safetensors"), "x", "y");
        WriteShard(dir.File("b.safetensors"), "z");
        using var set = SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("y", "a.safetensors"), ("z", "b.safetensors")));
        Assert.Equal(["x", "y", "z"], set.Tensors.Select(t => t.Name));
        Assert.Equal([1f, 2f], set.ReadFloat32("z"));
        Assert.EndsWith("/b.safetensors", set.FileOf("z"));
        Assert.EndsWith("/model.safetensors.index.json", set.Name);
    }

    [Fact]
    public void AnIndexThatDisagreesWithItsShardsIsAnError()
    {
        using var dir = new TempDir();
        WriteShard(dir.File("a.safetensors"), "x", "y");
        WriteShard(dir.File("b.safetensors"), "y");
        Assert.Contains("tensor 'y' is in both", Assert.Throws<InvalidDataException>(() =>
            SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("y", "b.safetensors")))).Message);

        WriteShard(dir.File("b.safetensors"), "z");
        Assert.Contains("puts tensor 'q' in b.safetensors, which does not hold it", Assert.Throws<InvalidDataException>(() =>
            SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("y", "a.safetensors"), ("z", "b.safetensors"), ("q", "b.safetensors")))).Message);
        Assert.Contains("puts tensor 'y' in b.safetensors", Assert.Throws<InvalidDataException>(() =>
            SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("y", "b.safetensors"), ("z", "b.safetensors")))).Message);
        Assert.Contains("tensor 'y' of", Assert.Throws<InvalidDataException>(() =>
            SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("z", "b.safetensors")))).Message);

        var missing = Assert.Throws<FileNotFoundException>(() => SafeTensorsSet.OpenIndex(WriteIndex(dir, ("x", "a.safetensors"), ("w", "c.safetensors"))));
        Assert.Contains("model.safetensors.index.json: names shard c.safetensors", missing.Message);
    }

    [Theory]
    [InlineData("{}", "needs a \"weight_map\" object")]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("{\"weight_map\": {}}", "weight_map is empty")]
    [InlineData("{\"weight_map\": {\"x\": \"../a.safetensors\"}}", "expected the file name of a shard beside the index")]
    [InlineData("{\"weight_map\": {\"x\": 3}}", "weight_map entry 'x' is 3")]
    [InlineData("{\"weight_map\": ", "not valid JSON")]
    public void AMalformedIndexNamesTheProblem(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("i.json"), json);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsIndex.Load(dir.File("i.json")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("i.json", e.Message);
    }

    [Theory]
    [InlineData(SafeTensorsDType.F32)]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    public void NonFiniteValuesAreRefusedAsTheyAreWidened(SafeTensorsDType dtype)
    {
        using var dir = new TempDir();
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var values = Enumerable.Range(0, 37).Select(i => i * 0.25f).ToArray();
            values[29] = bad;
            var w = new SafeTensorsWriter();
            if (dtype == SafeTensorsDType.F32) w.Add("t", values, 37);
            else if (dtype == SafeTensorsDType.F16) w.AddAsF16("t", values, 37);
            else w.Add("t", dtype, [37], MemoryMarshal.AsBytes(values.Select(v => (ushort)(BitConverter.SingleToInt32Bits(v) >> 16)).ToArray().AsSpan()));
            w.Add("ok", [1f], 1);
            w.Save(dir.File("w.safetensors"));
            using var set = SafeTensorsSet.Open(dir.File("w.safetensors"));
            Assert.Equal([1f], set.ReadFloat32("ok"));
            var e = Assert.Throws<InvalidDataException>(() => set.ReadFloat32("t"));
            Assert.Contains($"w.safetensors: tensor 't' [37] holds 1 non-finite value(s), the first {SafeTensorsSet.Show(bad)} at element 29", e.Message);
        }
    }

    [Fact]
    public void IndexOfNonFiniteFindsTheFirstAtEveryPosition()
    {
        for (int length = 1; length <= 70; length++)
        {
            var values = Enumerable.Range(0, length).Select(i => (float)Math.Sin(i) * 1e30f).ToArray();
            Assert.Equal(-1, SafeTensorsSet.IndexOfNonFinite(values));
            for (int at = 0; at < length; at += 7)
            {
                var copy = (float[])values.Clone();
                copy[at] = float.NaN;
                if (at + 3 < length) copy[at + 3] = float.PositiveInfinity;
                Assert.Equal(at, SafeTensorsSet.IndexOfNonFinite(copy));
            }
        }
        Assert.Equal(-1, SafeTensorsSet.IndexOfNonFinite([float.MaxValue, float.MinValue, float.Epsilon]));
    }

    [Fact]
    public void DeferredTensorsWriteTheSameBytesAsEagerOnes()
    {
        using var dir = new TempDir();
        var rng = new Random(42);
        var a = Enumerable.Range(0, 1000).Select(_ => rng.NextSingle()).ToArray();
        var b = Enumerable.Range(0, 10).Select(_ => rng.NextSingle()).ToArray();
        new SafeTensorsWriter().Add("a", a, 10, 100).Add("b", b, 10).Save(dir.File("eager.safetensors"));
        int calls = 0;
        var deferred = new SafeTensorsWriter()
            .Add("a", SafeTensorsDType.F32, [10, 100], span => { calls++; MemoryMarshal.AsBytes(a.AsSpan()).CopyTo(span); })
            .Add("b", SafeTensorsDType.F32, [10], span => { calls++; MemoryMarshal.AsBytes(b.AsSpan()).CopyTo(span); });
        Assert.Equal(0, calls);
        deferred.Save(dir.File("deferred.safetensors"));
        Assert.Equal(2, calls);
        Assert.Equal(File.ReadAllBytes(dir.File("eager.safetensors")), File.ReadAllBytes(dir.File("deferred.safetensors")));
    }
}
