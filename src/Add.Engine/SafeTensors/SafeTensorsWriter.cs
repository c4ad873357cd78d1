using System.Runtime.InteropServices;

namespace Add.Engine.SafeTensors;

/// <summary>
/// Collects tensors and writes one safetensors file atomically (temp file + rename), so a crash never leaves a
/// half-written file under the final name. Tensors are laid out in the order added, 8-byte aligned data section.
/// </summary>
public sealed class SafeTensorsWriter
{
    readonly List<(SafeTensorInfo Info, byte[] Data)> _tensors = [];
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    long _offset;

    /// <summary>Entries written to "__metadata__".</summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>Adds raw little-endian bytes of the given dtype and shape.</summary>
    public SafeTensorsWriter Add(string name, SafeTensorsDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved for metadata", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (shape.Any(d => d < 0)) throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}]");
        long expected = shape.Aggregate(1L, (a, b) => checked(a * b)) * SafeTensorsDTypes.SizeOf(dtype);
        if (expected != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes, got {data.Length}");
        var info = new SafeTensorInfo(name, dtype, (long[])shape.Clone(), _offset, _offset + data.Length);
        _offset += data.Length;
        _tensors.Add((info, data.ToArray()));
        return this;
    }

    /// <summary>Adds an F32 tensor.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlySpan<float> data, params long[] shape)
        => Add(name, SafeTensorsDType.F32, shape, MemoryMarshal.AsBytes(data));

    /// <summary>Adds fp32 values stored as F16 (round to nearest even).</summary>
    public SafeTensorsWriter AddAsF16(string name, ReadOnlySpan<float> data, params long[] shape)
    {
        var half = new Half[data.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(data, half);
        return Add(name, SafeTensorsDType.F16, shape, MemoryMarshal.AsBytes(half.AsSpan()));
    }

    /// <summary>Adds an I64 tensor.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlySpan<long> data, params long[] shape)
        => Add(name, SafeTensorsDType.I64, shape, MemoryMarshal.AsBytes(data));

    /// <summary>Adds a U8 tensor.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlySpan<byte> data, params long[] shape)
        => Add(name, SafeTensorsDType.U8, shape, data);

    /// <summary>Writes the file to <paramref name="path"/> through a temporary file in the same folder.</summary>
    public void Save(string path)
    {
        var header = SafeTensorsHeader.Encode(_tensors.Select(t => t.Info), Metadata);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Span<byte> length = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                fs.Write(length);
                fs.Write(header);
                foreach (var (_, data) in _tensors) fs.Write(data);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write {path}: {e.Message.Replace(tmp, path, StringComparison.Ordinal)}", e);
        }
        finally
        {
            try { if (File.Exists(tmp)) File.Delete(tmp); }
            catch (IOException) { }                  // best effort: never hide the error above
            catch (UnauthorizedAccessException) { }
        }
    }
}
