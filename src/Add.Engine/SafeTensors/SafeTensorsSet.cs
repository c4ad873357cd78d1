using System.Numerics.Tensors;

namespace Add.Engine.SafeTensors;

/// <summary>
/// The tensors of one checkpoint read as one name space: a single safetensors file, or the shards a
/// <see cref="SafeTensorsIndex"/> names. Every tensor read as fp32 (<see cref="ReadFloat32(SafeTensorInfo, Span{float})"/>)
/// is checked finite as it is widened: a NaN or ±Inf is an <see cref="InvalidDataException"/> naming the tensor, the
/// file and the first bad element, never a silent black image.
/// </summary>
public sealed class SafeTensorsSet : IDisposable
{
    readonly List<SafeTensorsFile> _files;
    readonly bool _ownsFiles;
    readonly Dictionary<string, (SafeTensorsFile File, SafeTensorInfo Info)> _byName = new(StringComparer.Ordinal);

    /// <summary>What messages call the checkpoint: "unet/diffusion_pytorch_model.safetensors", or the index's name.</summary>
    public string Name { get; }

    /// <summary>Every tensor, file by file in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The files read (one, or the shards).</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    SafeTensorsSet(string name, List<SafeTensorsFile> files, bool ownsFiles)
    {
        Name = name;
        _files = files;
        _ownsFiles = ownsFiles;
        var tensors = new List<SafeTensorInfo>();
        foreach (var file in files)
        {
            foreach (var t in file.Tensors)
            {
                if (!_byName.TryAdd(t.Name, (file, t)))
                    throw new InvalidDataException($"{name}: tensor '{t.Name}' is in both {DisplayName(_byName[t.Name].File.Path)} and {DisplayName(file.Path)}");
                tensors.Add(t);
            }
        }
        Tensors = tensors;
    }

    /// <summary>One safetensors file.</summary>
    public static SafeTensorsSet Open(string path) => new(DisplayName(path), [SafeTensorsFile.Open(path)], ownsFiles: true);

    /// <summary>A view of an open file (disposing the set leaves the file open).</summary>
    public static SafeTensorsSet Of(SafeTensorsFile file) => new(DisplayName(file.Path), [file], ownsFiles: false);

    /// <summary>The shards of a sharded checkpoint: each shard the index names must exist, and hold exactly the tensors the
    /// index maps to it (a tensor missing from its shard, or a shard tensor the index does not list, is an error).</summary>
    /// <exception cref="FileNotFoundException">the index, or a shard it names, does not exist (the message names it).</exception>
    public static SafeTensorsSet OpenIndex(string indexPath)
    {
        var index = SafeTensorsIndex.Load(indexPath);
        var name = DisplayName(indexPath);
        foreach (var shard in index.Shards)
            if (!File.Exists(shard))
                throw new FileNotFoundException($"{name}: names shard {System.IO.Path.GetFileName(shard)}, which is not in {System.IO.Path.GetDirectoryName(shard)}", shard);
        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (var shard in index.Shards) files.Add(SafeTensorsFile.Open(shard));
            var set = new SafeTensorsSet(name, files, ownsFiles: true);
            foreach (var (tensor, shardName) in index.WeightMap)
            {
                if (!set._byName.TryGetValue(tensor, out var at) || System.IO.Path.GetFileName(at.File.Path) != shardName)
                    throw new InvalidDataException($"{name}: weight_map puts tensor '{tensor}' in {shardName}, which does not hold it");
            }
            var unlisted = set.Tensors.FirstOrDefault(t => !index.WeightMap.ContainsKey(t.Name));
            if (unlisted is not null)
                throw new InvalidDataException($"{name}: tensor '{unlisted.Name}' of {DisplayName(set._byName[unlisted.Name].File.Path)} is not in the weight_map");
            return set;
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>True when a tensor of that name exists in any file.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor called <paramref name="name"/>; a missing name fails naming the checkpoint and the key.</summary>
    public SafeTensorInfo Get(string name) => _byName.TryGetValue(name, out var at) ? at.Info
        : throw new KeyNotFoundException($"{Name}: no tensor named '{name}'");

    /// <summary>"unet/diffusion_pytorch_model-00002-of-00002.safetensors": the file that holds <paramref name="name"/>.</summary>
    public string FileOf(string name) => DisplayName(_byName[name].File.Path);

    /// <summary>Reads a floating tensor as fp32 (F16/BF16 widened, F64 narrowed), checked finite.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Get(name);
        var values = new float[info.ElementCount];
        ReadFloat32(info, values);
        return values;
    }

    /// <summary>Reads a floating tensor into <paramref name="destination"/> as fp32, checked finite.</summary>
    /// <exception cref="InvalidDataException">a value is NaN or ±Inf (the message names the tensor, its file and the
    /// first bad element); the tensor is not floating.</exception>
    public void ReadFloat32(SafeTensorInfo info, Span<float> destination)
    {
        var file = _byName.TryGetValue(info.Name, out var at) && ReferenceEquals(at.Info, info) ? at.File
            : throw new ArgumentException($"tensor '{info.Name}' does not belong to {Name}", nameof(info));
        file.ReadFloat32(info, destination);
        int bad = IndexOfNonFinite(destination);
        if (bad >= 0)
        {
            int count = 0;
            foreach (var v in destination) if (!float.IsFinite(v)) count++;
            throw new InvalidDataException($"{DisplayName(file.Path)}: tensor '{info.Name}' {info.ShapeText} holds {count} non-finite value(s), " +
                $"the first {Show(destination[bad])} at element {bad}: the weights are corrupt (a NaN or Inf weight makes every image black or tinted)");
        }
    }

    /// <summary>The index of the first NaN or ±Inf in <paramref name="values"/>, or −1 when all are finite (vectorized).</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (TensorPrimitives.IsFiniteAll(values)) return -1;
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>A non-finite value as messages spell it: NaN, +Inf, -Inf.</summary>
    public static string Show(float value) => float.IsNaN(value) ? "NaN" : float.IsPositiveInfinity(value) ? "+Inf" : float.IsNegativeInfinity(value) ? "-Inf" : value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"folder/file": enough to tell unet/ from vae/, both of which hold diffusion_pytorch_model.safetensors.</summary>
    public static string DisplayName(string path) =>
        System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))) + "/" + System.IO.Path.GetFileName(path);

    /// <summary>Unmaps the files (when the set opened them).</summary>
    public void Dispose()
    {
        if (!_ownsFiles) return;
        foreach (var f in _files) f.Dispose();
    }
}
