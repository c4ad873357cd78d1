using Add.Engine.Backends;
using Add.Engine.SafeTensors;

namespace Add.Engine.Models;

/// <summary>
/// The tensors of one component's checkpoint (one safetensors file or its shards, <see cref="SafeTensorsSet"/>),
/// handed to the model code by diffusers key. Each tensor is read (F16/BF16/F64 widened to fp32, checked finite),
/// checked against the shape the config implies, optionally transformed on the host (e.g. a scale folded into a
/// convolution) and uploaded once to the backend. A missing key or a shape that disagrees with the config is an
/// <see cref="InvalidDataException"/> naming the key and both shapes; so is a tensor the model never asked for
/// (<see cref="ThrowIfUnused"/>), which catches a config that describes a different model, except the known
/// non-parameter buffers (<see cref="NonParameterBuffers"/>).
/// <para>Memory: a tensor bound for the backend is read into one staging array, reused for every tensor (grown to the
/// largest), so loading leaves no per-tensor host copy behind; a linear or conv weight goes through
/// <see cref="GemmWeight"/>, which the CPU backend keeps only as packed GEMM panels (one copy of each weight).</para>
/// </summary>
public sealed class Weights : IDisposable
{
    private readonly SafeTensorsSet _tensors;
    private readonly Backend _backend;
    private readonly HashSet<string> _used = [];
    private readonly List<DeviceBuffer> _buffers;
    private float[] _staging = [];

    /// <summary>Buffers that checkpoints carry but no computation reads: transformers' CLIP text model saved
    /// <c>text_model.embeddings.position_ids</c> (the constant 0..L−1, [1, L]) until it stopped persisting it.</summary>
    public static readonly IReadOnlySet<string> NonParameterBuffers = new HashSet<string>(StringComparer.Ordinal)
    {
        "text_model.embeddings.position_ids",
    };

    /// <summary>Binds <paramref name="tensors"/> (which this then owns) to <paramref name="backend"/>; uploads are added to
    /// <paramref name="owner"/>.</summary>
    public Weights(SafeTensorsSet tensors, Backend backend, List<DeviceBuffer> owner)
    {
        _tensors = tensors;
        _backend = backend;
        _buffers = owner;
    }

    /// <summary>The checkpoint as messages name it: "unet/diffusion_pytorch_model.safetensors".</summary>
    public string FileName => _tensors.Name;

    private bool _checkOnly;

    /// <summary>Until the returned scope is disposed, reads only check: every tensor asked for must exist with its shape
    /// and is marked used, but nothing is read or uploaded (the views returned are empty, host arrays zeros). A model part
    /// loaded later from a fresh <see cref="Weights"/> (the VAE's encoder) is built once this way at load, so a file that
    /// disagrees with the config still fails there.</summary>
    public IDisposable CheckOnly()
    {
        _checkOnly = true;
        return new CheckScope(this);
    }

    private sealed class CheckScope(Weights w) : IDisposable
    {
        public void Dispose() => w._checkOnly = false;
    }

    /// <summary>The tensor <paramref name="key"/> as fp32 on the host, shape-checked and finite.</summary>
    public float[] Host(string key, params int[] shape)
    {
        var values = new float[Info(key, shape).ElementCount];
        if (!_checkOnly)
            _tensors.ReadFloat32(_tensors.Get(key), values);
        return values;
    }

    /// <summary>The tensor <paramref name="key"/> read into the staging array: valid until the next read.</summary>
    private Span<float> Staged(string key, int[] shape)
    {
        var info = Info(key, shape);
        if (_checkOnly)
            return [];
        if (_staging.LongLength < info.ElementCount)
            _staging = GC.AllocateUninitializedArray<float>(checked((int)info.ElementCount));
        var values = _staging.AsSpan(0, (int)info.ElementCount);
        _tensors.ReadFloat32(info, values);
        return values;
    }

    /// <summary>Checks that <paramref name="key"/> exists with <paramref name="shape"/> and marks it used.</summary>
    private SafeTensors.SafeTensorInfo Info(string key, int[] shape)
    {
        if (!_tensors.Contains(key))
            throw new InvalidDataException($"{FileName}: missing tensor '{key}' (config expects shape [{string.Join(", ", shape)}])");
        var info = _tensors.Get(key);
        if (!info.Shape.SequenceEqual(shape.Select(s => (long)s)))
            throw new InvalidDataException($"{_tensors.FileOf(key)}: tensor '{key}' has shape {info.ShapeText} but the config implies [{string.Join(", ", shape)}]");
        _used.Add(key);
        return info;
    }

    /// <summary>The shape of tensor <paramref name="key"/>, or null when the file has no such tensor.</summary>
    public long[]? ShapeOf(string key) => _tensors.Contains(key) ? _tensors.Get(key).Shape.ToArray() : null;

    /// <summary>The tensor uploaded to the backend (after an optional host-side <paramref name="transform"/> in place).</summary>
    public TensorView Device(string key, int[] shape, Action<float[]>? transform = null)
    {
        if (transform is null)
            return Upload(Staged(key, shape));
        var values = Host(key, shape);
        transform(values);
        return Upload(values);
    }

    /// <summary>A linear weight ([out, in] = [<paramref name="rows"/>, <paramref name="cols"/>]) or, when
    /// <paramref name="conv"/>, a conv weight ([Co, Ci, kh, kw] as [rows = Co, cols = Ci·kh·kw]) of the file's
    /// <paramref name="shape"/>, uploaded as <see cref="Backend.GemmWeight"/> (after an optional host-side
    /// <paramref name="transform"/>): only that op may read it.</summary>
    public TensorView GemmWeight(string key, int[] shape, int rows, int cols, bool conv, Action<float[]>? transform = null)
    {
        if (transform is null)
            return UploadGemmWeight(Staged(key, shape), rows, cols, conv);
        var values = Host(key, shape);
        transform(values);
        return UploadGemmWeight(values, rows, cols, conv);
    }

    /// <summary>Host floats W [rows, cols] uploaded as a GEMM weight (<see cref="Backend.GemmWeight"/>) owned by the model.</summary>
    public TensorView UploadGemmWeight(ReadOnlySpan<float> values, int rows, int cols, bool conv)
    {
        if (_checkOnly)
            return TensorView.Empty;
        if (values.Length != (long)rows * cols)
            throw new ArgumentException($"{FileName}: a [{rows}, {cols}] weight from {values.Length} floats");
        var buffer = _backend.GemmWeight(values, rows, cols, conv);
        _buffers.Add(buffer);
        return buffer.View.Slice(0, values.Length);
    }

    public TensorView Device(string key, params int[] shape) => Device(key, shape, null);

    /// <summary>Host floats uploaded as a constant owned by the model.</summary>
    public TensorView Upload(ReadOnlySpan<float> values)
    {
        if (_checkOnly)
            return TensorView.Empty;
        var buffer = _backend.Constant(values);
        _buffers.Add(buffer);
        return buffer.View.Slice(0, values.Length);
    }

    /// <summary>Throws when the checkpoint holds tensors the model did not read (the config and the weights disagree);
    /// <see cref="NonParameterBuffers"/> are skipped.</summary>
    public void ThrowIfUnused()
    {
        var extra = _tensors.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n) && !NonParameterBuffers.Contains(n)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{FileName}: {extra.Count} tensor(s) the config does not describe, e.g. '{extra[0]}' {_tensors.Get(extra[0]).ShapeText} in {_tensors.FileOf(extra[0])}");
    }

    public void Dispose() => _tensors.Dispose();
}
