using System.Text.Json;

namespace Add.Engine.SafeTensors;

/// <summary>
/// The index of a sharded checkpoint, as diffusers and transformers write it beside the shards
/// (<c>diffusion_pytorch_model.safetensors.index.json</c>, <c>model.safetensors.index.json</c>):
/// <code>{"metadata": {"total_size": …}, "weight_map": {"tensor name": "shard file name", …}}</code>
/// The shard names are relative to the index's folder; <c>metadata</c> is informational.
/// </summary>
public sealed record SafeTensorsIndex(string Path, IReadOnlyDictionary<string, string> WeightMap)
{
    /// <summary>The shard files in first-named order, as full paths beside the index.</summary>
    public IReadOnlyList<string> Shards =>
        WeightMap.Values.Distinct(StringComparer.Ordinal).Select(f => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path) ?? ".", f)).ToList();

    /// <summary>Reads and checks an index: a JSON object with a "weight_map" object of non-empty file names that name
    /// no folder (a shard lies beside its index).</summary>
    /// <exception cref="FileNotFoundException">the index does not exist.</exception>
    /// <exception cref="InvalidDataException">the index is not such an object; the message names the file and the key.</exception>
    public static SafeTensorsIndex Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"shard index not found: {path}", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: a shard index must be a JSON object, found {doc.RootElement.ValueKind}");
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: a shard index needs a \"weight_map\" object of tensor name → shard file");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                if (file.Length == 0 || file != System.IO.Path.GetFileName(file))
                    throw new InvalidDataException($"{path}: weight_map entry '{entry.Name}' is {entry.Value.GetRawText()}, expected the file name of a shard beside the index");
                if (!weightMap.TryAdd(entry.Name, file))
                    throw new InvalidDataException($"{path}: weight_map names tensor '{entry.Name}' twice");
            }
            if (weightMap.Count == 0) throw new InvalidDataException($"{path}: weight_map is empty");
            return new SafeTensorsIndex(path, weightMap);
        }
    }
}
