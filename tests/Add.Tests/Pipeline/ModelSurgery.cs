using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;

namespace Add.Tests.Pipeline;

/// <summary>Writable copies of the shipped student and the edits the loading tests make to them: one tensor changed,
/// added or dropped, a checkpoint split into shards, model_index.json rewritten.</summary>
public static class ModelSurgery
{
    public static string Emoji => Path.Combine(Fixtures.Root, "models", "add-emoji-32");

    /// <summary>A copy of models/add-emoji-32 (model_index.json and the component folders) in &lt;dir&gt;/model.</summary>
    public static string CopyEmoji(TempDir dir, bool asF16 = false)
    {
        var target = dir.File(asF16 ? "model-f16" : "model");
        ModelFolders.Copy(Emoji, target, asF16);
        return target;
    }

    public static string UnetWeights(string model) => PipelineLayout.Unet.Weights(model);
    public static string VaeWeights(string model) => PipelineLayout.Vae.Weights(model);
    public static string TextWeights(string model) => PipelineLayout.TextEncoder.Weights(model);

    /// <summary>Rewrites <paramref name="file"/> with every tensor as it was (same dtype and bytes) except those
    /// <paramref name="edit"/> changes (given the name and fp32 values; null keeps the bytes), plus <paramref name="add"/>.</summary>
    public static void Rewrite(string file, Func<string, float[], float[]?>? edit = null, Action<SafeTensorsWriter>? add = null, Func<string, bool>? keep = null)
    {
        var writer = new SafeTensorsWriter();
        using (var f = SafeTensorsFile.Open(file))
        {
            foreach (var (k, v) in f.Metadata) writer.Metadata[k] = v;
            foreach (var t in f.Tensors)
            {
                if (keep is not null && !keep(t.Name)) continue;
                bool floating = t.DType is SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64;
                var changed = floating ? edit?.Invoke(t.Name, f.ReadFloat32(t.Name)) : null;
                if (changed is null) writer.Add(t.Name, t.DType, t.Shape, f.GetBytes(t));
                else if (t.DType == SafeTensorsDType.F16) writer.AddAsF16(t.Name, changed, t.Shape);
                else writer.Add(t.Name, changed, t.Shape);
            }
        }
        add?.Invoke(writer);
        writer.Save(file);
    }

    /// <summary>Sets element <paramref name="index"/> of tensor <paramref name="name"/> to <paramref name="value"/>.</summary>
    public static void Poke(string file, string name, float value, int index = 0) =>
        Rewrite(file, (n, v) => { if (n != name) return null; v[index] = value; return v; });

    /// <summary>Splits a checkpoint into <paramref name="shards"/> files named as diffusers names them
    /// (&lt;stem&gt;-00001-of-00002.safetensors) beside an index &lt;file&gt;.index.json, and deletes the single file.
    /// With <paramref name="variant"/> the names carry it (diffusers' <c>_add_variant</c>).</summary>
    public static string Shard(string file, int shards, string? variant = null)
    {
        var folder = Path.GetDirectoryName(file)!;
        var baseName = Path.GetFileName(file);                              // diffusion_pytorch_model[.fp16].safetensors
        var stem = baseName[..baseName.IndexOf(".safetensors", StringComparison.Ordinal)];
        var plain = variant is null ? baseName : baseName.Replace($".{variant}", "", StringComparison.Ordinal);
        var weightMap = new JsonObject();
        using (var f = SafeTensorsFile.Open(file))
        {
            int per = (f.Tensors.Count + shards - 1) / shards;
            for (int s = 0; s < shards; s++)
            {
                var shardName = $"{stem}-{s + 1:D5}-of-{shards:D5}.safetensors";
                var writer = new SafeTensorsWriter();
                foreach (var t in f.Tensors.Skip(s * per).Take(per))
                {
                    writer.Add(t.Name, t.DType, t.Shape, f.GetBytes(t));
                    weightMap[t.Name] = shardName;
                }
                writer.Save(Path.Combine(folder, shardName));
            }
        }
        File.Delete(file);
        var indexName = variant is null ? plain + PipelineComponent.IndexSuffix : PipelineComponent.WithVariant(plain + PipelineComponent.IndexSuffix, variant);
        var index = Path.Combine(folder, indexName);
        File.WriteAllText(index, new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = weightMap }.ToJsonString());
        return index;
    }

    /// <summary>Renames every network's weights file to its <paramref name="variant"/> name.</summary>
    /// <summary>The components of <paramref name="model"/> with a weights file: text encoder, UNet, VAE and, when the
    /// folder has one (the shipped student does), the tiny decoder.</summary>
    public static IEnumerable<PipelineComponent> WeightedComponents(string model) =>
        new[] { PipelineLayout.TextEncoder, PipelineLayout.Unet, PipelineLayout.Vae, PipelineLayout.VaeTiny }
            .Where(c => c != PipelineLayout.VaeTiny || Directory.Exists(c.Folder(model)));

    public static void RenameToVariant(string model, string variant)
    {
        foreach (var c in WeightedComponents(model))
            File.Move(c.Weights(model), Path.Combine(c.Folder(model), PipelineComponent.WithVariant(c.WeightsFile!, variant)));
    }

    /// <summary>Edits model_index.json as a JSON object.</summary>
    public static void EditIndex(string model, Action<JsonObject> edit)
    {
        var path = PipelineLayout.ModelIndex(model);
        var index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(index);
        File.WriteAllText(path, index.ToJsonString());
    }

    /// <summary>An I64 tensor [1, n] holding 0..n−1 (transformers' persisted position_ids buffer).</summary>
    public static void AddPositionIds(SafeTensorsWriter writer, int n)
    {
        var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        writer.Add("text_model.embeddings.position_ids", SafeTensorsDType.I64, [1, n], MemoryMarshal.AsBytes(ids.AsSpan()));
    }
}
