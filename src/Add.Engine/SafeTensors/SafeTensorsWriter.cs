using System.Runtime.InteropServices;

namespace Add.Engine.SafeTensors;

/// <summary>
/// Collects tensors and writes one safetensors file atomically (temp file + rename), so a crash never leaves a
/// half-written file under the final name. Tensors are laid out in the order added, 8-byte aligned data section.
/// A tensor added with a fill callback (<see cref="Add(string, SafeTensorsDType, long[], Action{Span{byte}})"/>) is
/// produced only while <see cref="Save"/> writes it, so a model of several GB is written holding one tensor's bytes.
/// </summary>
public sealed class SafeTensorsWriter
{
    readonly List<(SafeTensorInfo Info, byte[]? Data, Action<Span<byte>>? Fill)> _tensors = [];
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    long _offset;

    /// <summary>Entries written to "__metadata__".</summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>Adds raw little-endian bytes of the given dtype and shape.</summary>
    public SafeTensorsWriter Add(string name, SafeTensorsDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        var info = Place(name, dtype, shape);
        if (info.ByteLength != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {info.ByteLength} bytes, got {data.Length}");
        Commit(info, data.ToArray(), null);
        return this;
    }

    /// <summary>Adds a tensor whose little-endian bytes <paramref name="fill"/> writes into the span it is given (exactly
    /// the shape's size) when <see cref="Save"/> reaches it; nothing is held until then.</summary>
    public SafeTensorsWriter Add(string name, SafeTensorsDType dtype, long[] shape, Action<Span<byte>> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        var info = Place(name, dtype, shape);
        if (info.ByteLength > Array.MaxLength)
            throw new ArgumentException($"tensor '{name}': {info.ByteLength} bytes exceed one array ({Array.MaxLength})");
        Commit(info, null, fill);
        return this;
    }

    SafeTensorInfo Place(string name, SafeTensorsDType dtype, long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved for metadata", nameof(name));
        if (_names.Contains(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (shape.Any(d => d < 0)) throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}]");
        long bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * SafeTensorsDTypes.SizeOf(dtype));
        return new SafeTensorInfo(name, dtype, (long[])shape.Clone(), _offset, _offset + bytes);
    }

    void Commit(SafeTensorInfo info, byte[]? data, Action<Span<byte>>? fill)
    {
        _names.Add(info.Name);
        _offset = info.End;
        _tensors.Add((info, data, fill));
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
                byte[] scratch = [];
                foreach (var (info, data, fill) in _tensors)
                {
                    if (data is not null) { fs.Write(data); continue; }
                    if (scratch.Length < info.ByteLength) scratch = new byte[info.ByteLength];
                    var span = scratch.AsSpan(0, (int)info.ByteLength);
                    span.Clear();
                    fill!(span);
                    fs.Write(span);
                }
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
