using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Add.Engine.SafeTensors;

/// <summary>
/// A safetensors file opened read-only through a memory map: the header is parsed and validated up front
/// (<see cref="SafeTensorsHeader.Parse"/>), tensor data is read on demand, never copied whole.
/// <para>Memory: <see cref="ReadFloat32(SafeTensorInfo, Span{float})"/> reads with positioned file reads (straight into
/// the destination for F32, through a small chunk buffer otherwise), not through the map, so loading a model does not
/// leave the file's pages mapped into the process (they would count in its resident set until the file is closed:
/// a 3.5 GB UNet file beside its own weights). <see cref="GetBytes"/> still serves raw views from the map.</para>
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _data;          // start of the data section
    readonly long _dataLength;
    readonly long _dataOffset;     // file offset of the data section
    readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    const int ChunkBytes = 1 << 20;
    readonly Dictionary<string, SafeTensorInfo> _byName;
    bool _disposed;

    /// <summary>Path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The "__metadata__" entries (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* data, long dataOffset, long dataLength,
                    List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _map = map; _view = view; _data = data; _dataOffset = dataOffset; _dataLength = dataLength;
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Tensors = tensors; Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">the file is not a valid safetensors file.</exception>
    public static SafeTensorsFile Open(string path)
    {
        var source = path;   // messages name the file as the caller gave it: unet/ and vae/ both hold diffusion_pytorch_model.safetensors
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
            throw SafeTensorsHeader.Fail(source, $"truncated file: {fileLength} bytes, the 8-byte header length alone needs 8");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            basePtr += view.PointerOffset;
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePtr, 8));
            bool jsonFollows = fileLength > 8 && basePtr[8] == (byte)'{';
            if (!jsonFollows && (headerLength > SafeTensorsHeader.MaxHeaderBytes || (long)headerLength > fileLength - 8))
                throw SafeTensorsHeader.Fail(source, "not a safetensors file (it does not start with an 8-byte header length and a JSON header)");
            if (headerLength > SafeTensorsHeader.MaxHeaderBytes)
                throw SafeTensorsHeader.Fail(source, $"header length {headerLength} exceeds the {SafeTensorsHeader.MaxHeaderBytes}-byte limit");
            if ((long)headerLength > fileLength - 8)
                throw SafeTensorsHeader.Fail(source, $"truncated file: header length {headerLength} but only {fileLength - 8} bytes follow");
            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            long dataLength = fileLength - 8 - (long)headerLength;
            var (tensors, metadata) = SafeTensorsHeader.Parse(header, dataLength, source);
            return new SafeTensorsFile(path, map, view, basePtr + 8 + (long)headerLength, 8 + (long)headerLength, dataLength, tensors, metadata);
        }
        catch
        {
            if (view is not null) { view.SafeMemoryMappedViewHandle.ReleasePointer(); view.Dispose(); }
            map.Dispose();
            throw;
        }
    }

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor called <paramref name="name"/>; a missing name fails naming the file and the key.</summary>
    public SafeTensorInfo Get(string name)
        => _byName.TryGetValue(name, out var info) ? info
           : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>Raw little-endian bytes of a tensor, straight from the map (valid until Dispose).</summary>
    public ReadOnlySpan<byte> GetBytes(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.End > _dataLength || info.ByteLength > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(info), $"tensor '{info.Name}' does not belong to {Path}");
        return new ReadOnlySpan<byte>(_data + info.Begin, (int)info.ByteLength);
    }

    /// <summary>Reads a floating tensor as fp32, widening F16/BF16 and narrowing F64.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Get(name);
        var result = new float[info.ElementCount];
        ReadFloat32(info, result);
        return result;
    }

    /// <summary>Reads a floating tensor into <paramref name="destination"/> (length = element count) as fp32.</summary>
    public void ReadFloat32(SafeTensorInfo info, Span<float> destination)
    {
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"tensor '{info.Name}' has {info.ElementCount} elements, destination holds {destination.Length}");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.End > _dataLength || info.ByteLength > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(info), $"tensor '{info.Name}' does not belong to {Path}");
        int size = info.DType switch
        {
            SafeTensorsDType.F32 => 4,
            SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
            SafeTensorsDType.F64 => 8,
            _ => throw new InvalidDataException($"{Path}: tensor '{info.Name}' is {info.DType}, expected a floating type (F32, F16, BF16, F64)"),
        };
        long offset = _dataOffset + info.Begin;
        if (size == 4)
        {
            ReadExactly(MemoryMarshal.AsBytes(destination), offset);
            return;
        }
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(ChunkBytes, info.ByteLength));
        try
        {
            int perChunk = chunk.Length / size;
            for (int done = 0; done < destination.Length; done += perChunk)
            {
                int count = Math.Min(perChunk, destination.Length - done);
                var bytes = chunk.AsSpan(0, count * size);
                ReadExactly(bytes, offset + (long)done * size);
                Widen(info.DType, bytes, destination.Slice(done, count));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Fills <paramref name="bytes"/> from the file at <paramref name="offset"/> (a short read is a truncated file).</summary>
    void ReadExactly(Span<byte> bytes, long offset)
    {
        while (!bytes.IsEmpty)
        {
            int read = RandomAccess.Read(_file, bytes, offset);
            if (read <= 0)
                throw new InvalidDataException($"{Path}: file ends at byte {offset}, inside a tensor's data (truncated since it was opened?)");
            bytes = bytes[read..];
            offset += read;
        }
    }

    static void Widen(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination);
                break;
            case SafeTensorsDType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < bf.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                break;
            default:
                var d = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < d.Length; i++) destination[i] = (float)d[i];
                break;
        }
    }

    /// <summary>Reads an I64 tensor.</summary>
    public long[] ReadInt64(string name) => ReadExact<long>(name, SafeTensorsDType.I64);

    /// <summary>Reads a U8 tensor.</summary>
    public byte[] ReadUInt8(string name) => ReadExact<byte>(name, SafeTensorsDType.U8);

    T[] ReadExact<T>(string name, SafeTensorsDType dtype) where T : unmanaged
    {
        var info = Get(name);
        if (info.DType != dtype)
            throw new InvalidDataException($"{Path}: tensor '{name}' is {info.DType}, expected {dtype}");
        return MemoryMarshal.Cast<byte, T>(GetBytes(info)).ToArray();
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null) { _view.SafeMemoryMappedViewHandle.ReleasePointer(); _view.Dispose(); }
        _map?.Dispose();
        _file.Dispose();
    }
}
