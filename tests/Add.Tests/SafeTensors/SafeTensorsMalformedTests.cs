using System.Text;
using Add.Engine.SafeTensors;

namespace Add.Tests.SafeTensors;

/// <summary>Each broken promise of the format gets its own specific message, never a crash or an out-of-range read.</summary>
public class SafeTensorsMalformedTests
{
    static byte[] Build(string header, int dataBytes, ulong? lengthOverride = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + h.Length + dataBytes];
        BitConverter.GetBytes(lengthOverride ?? (ulong)h.Length).CopyTo(result, 0);
        h.CopyTo(result, 8);
        return result;
    }

    static string OpenFails(byte[] content)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("bad.safetensors"), content);
        return Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(dir.File("bad.safetensors"))).Message;
    }

    const string Good = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    [Fact] public void ValidBaselineOpens()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("ok.safetensors"), Build(Good, 8));
        using var f = SafeTensorsFile.Open(dir.File("ok.safetensors"));
        Assert.Single(f.Tensors);
    }

    [Fact] public void EmptyFile() => Assert.Contains("truncated file: 0 bytes", OpenFails([]));
    [Fact] public void FileShorterThanLengthPrefix() => Assert.Contains("truncated file: 5 bytes", OpenFails([1, 0, 0, 0, 0]));
    [Fact] public void HeaderLengthLargerThanFile() => Assert.Contains("header length 1000 but only", OpenFails(Build(Good, 8, 1000)));
    [Fact] public void HeaderLengthOverBound() => Assert.Contains("exceeds the 100000000-byte limit", OpenFails(Build(Good, 8, ulong.MaxValue)));
    [Fact] public void TruncatedData() => Assert.Contains("lie outside the 5-byte data section", OpenFails(Build(Good, 5)));

    [Fact] public void HeaderNotUtf8()
    {
        var bytes = Build(Good, 8);
        bytes[10] = 0xFF;
        Assert.Contains("not valid UTF-8", OpenFails(bytes));
    }

    [Fact] public void HeaderNotJson() => Assert.Contains("not valid JSON", OpenFails(Build("{\"a\": [1,", 0)));
    [Fact] public void HeaderNotAnObject() => Assert.Contains("must be a JSON object, found Array", OpenFails(Build("[1,2]", 0)));
    [Fact] public void UnknownDType() => Assert.Contains("unknown dtype 'F8'", OpenFails(Build("""{"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}}""", 2)));
    [Fact] public void MissingDType() => Assert.Contains("missing or non-string 'dtype'", OpenFails(Build("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", 8)));

    [Fact] public void ShapeDisagreesWithByteRange()
        => Assert.Contains("shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8", OpenFails(Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8)));

    [Fact] public void NegativeShapeEntry()
        => Assert.Contains("shape entry 0 is -2, expected a non-negative integer", OpenFails(Build("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8)));

    [Fact] public void NonIntegerShapeEntry()
        => Assert.Contains("shape entry 1 is 2.5", OpenFails(Build("""{"a":{"dtype":"U8","shape":[1,2.5],"data_offsets":[0,2]}}""", 2)));

    [Fact] public void ShapeOverflow()
        => Assert.Contains("too many elements", OpenFails(Build("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8)));

    [Fact] public void RangeOutsideDataSection()
        => Assert.Contains("lie outside the 8-byte data section", OpenFails(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8)));

    [Fact] public void EndBeforeBegin()
        => Assert.Contains("end 0 is before begin 8", OpenFails(Build("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8)));

    [Fact] public void OverlappingRanges()
        => Assert.Contains("overlap the previous tensor", OpenFails(Build(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12)));

    [Fact] public void GapBetweenRanges()
        => Assert.Contains("gap of 4 bytes before tensor 'b'", OpenFails(Build(
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)));

    [Fact] public void TrailingUncoveredBytes() => Assert.Contains("4 bytes after the last tensor", OpenFails(Build(Good, 12)));

    [Fact] public void DuplicateNames()
        => Assert.Contains("duplicate name 'a'", OpenFails(Build(
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)));

    [Fact] public void MetadataNotStrings()
        => Assert.Contains("entry 'n' must be a string", OpenFails(Build("""{"__metadata__":{"n":3}}""", 0)));

    [Fact] public void BadDataOffsets()
        => Assert.Contains("'data_offsets' must be an array of two integers", OpenFails(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8)));

    [Fact] public void MissingFileIsFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/x.safetensors"));

    /// <summary>Random byte flips of a valid file: the reader either opens it or throws the format exception, nothing else.</summary>
    [Fact] public void RandomCorruptionNeverEscapesAsAnotherException()
    {
        var rng = new Random(42);
        var good = Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}""", 11);
        using var dir = new TempDir();
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int f = 0; f < flips; f++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            var len = rng.Next(4) == 0 ? rng.Next(bytes.Length) : bytes.Length;
            File.WriteAllBytes(dir.File("c.safetensors"), bytes[..len]);
            try { using var f = SafeTensorsFile.Open(dir.File("c.safetensors")); foreach (var t in f.Tensors) _ = f.GetBytes(t).Length; }
            catch (SafeTensorsFormatException) { }
        }
    }
}
