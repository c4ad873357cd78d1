using Add.Engine.Backends;
using Add.Engine.SafeTensors;

namespace Add.Engine.Models;

/// <summary>
/// The tensors of one component's safetensors file, handed to the model code by diffusers key. Each tensor is read
/// (F16/BF16/F64 widened to fp32), checked against the shape the config implies, optionally transformed on the host
/// (e.g. a scale folded into a convolution) and uploaded once to the backend. A missing key or a shape that disagrees
/// with the config is an <see cref="InvalidDataException"/> naming the key and both shapes; so is a tensor the model
/// never asked for (<see cref="ThrowIfUnused"/>), which catches a config that describes a different model.
/// </summary>
public sealed class Weights : IDisposable
{
    private readonly SafeTensorsFile _file;
    private readonly Backend _backend;
    private readonly HashSet<string> _used = [];
    private readonly List<DeviceBuffer> _buffers;

    public Weights(string path, Backend backend, List<DeviceBuffer> owner)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"weights not found: {path}", path);
        _file = SafeTensorsFile.Open(path);
        _backend = backend;
        _buffers = owner;
    }

    public string FileName => Path.GetFileName(Path.GetDirectoryName(_file.Path)) + "/" + Path.GetFileName(_file.Path);

    /// <summary>The tensor <paramref name="key"/> as fp32 on the host, shape-checked.</summary>
    public float[] Host(string key, params int[] shape)
    {
        if (!_file.Contains(key))
            throw new InvalidDataException($"{FileName}: missing tensor '{key}' (config expects shape [{string.Join(", ", shape)}])");
        var info = _file.Get(key);
        if (!info.Shape.SequenceEqual(shape.Select(s => (long)s)))
            throw new InvalidDataException($"{FileName}: tensor '{key}' has shape {info.ShapeText} but the config implies [{string.Join(", ", shape)}]");
        _used.Add(key);
        var values = new float[info.ElementCount];
        _file.ReadFloat32(info, values);
        return values;
    }

    /// <summary>The shape of tensor <paramref name="key"/>, or null when the file has no such tensor.</summary>
    public long[]? ShapeOf(string key) => _file.Contains(key) ? _file.Get(key).Shape.ToArray() : null;

    /// <summary>The tensor uploaded to the backend (after an optional host-side <paramref name="transform"/> in place).</summary>
    public TensorView Device(string key, int[] shape, Action<float[]>? transform = null)
    {
        var values = Host(key, shape);
        transform?.Invoke(values);
        return Upload(values);
    }

    public TensorView Device(string key, params int[] shape) => Device(key, shape, null);

    /// <summary>Host floats uploaded as a constant owned by the model.</summary>
    public TensorView Upload(ReadOnlySpan<float> values)
    {
        var buffer = _backend.Constant(values);
        _buffers.Add(buffer);
        return buffer.View.Slice(0, values.Length);
    }

    /// <summary>Throws when the file holds tensors the model did not read (the config and the weights disagree).</summary>
    public void ThrowIfUnused()
    {
        var extra = _file.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{FileName}: {extra.Count} tensor(s) the config does not describe, e.g. '{extra[0]}' {_file.Get(extra[0]).ShapeText}");
    }

    public void Dispose() => _file.Dispose();
}
