using Add.Engine.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Model;

/// <summary>
/// Moves module weights to and from safetensors under diffusers' state-dict keys. Loading is strict: a missing key,
/// an unexpected key, or a shape mismatch fails naming the full key and both shapes.
/// </summary>
public static class StateDict
{
    /// <summary>Adds every tensor of <paramref name="module"/>'s state dict as "prefix + name" (F32, or F16 when asked).</summary>
    public static void AddTo(SafeTensorsWriter writer, nn.Module module, string prefix = "", bool asF16 = false)
    {
        foreach (var (name, tensor) in module.state_dict())
        {
            if (tensor.dtype != ScalarType.Float32) throw new InvalidOperationException($"{prefix}{name}: expected float32, got {tensor.dtype}");
            using var cpu = tensor.detach().cpu().contiguous();
            var data = cpu.data<float>().ToArray();
            if (asF16) writer.AddAsF16(prefix + name, data, cpu.shape);
            else writer.Add(prefix + name, data, cpu.shape);
        }
    }

    /// <summary>
    /// Copies tensors "prefix + name" of <paramref name="file"/> into <paramref name="module"/> (widening F16/BF16). The
    /// VAE's mid-block attention is also read from checkpoints written before diffusers 0.14 (query/key/value/proj_attn)
    /// and with 1×1-conv shapes [C, C, 1, 1], as diffusers converts them on load.
    /// </summary>
    public static void LoadInto(nn.Module module, SafeTensorsFile file, string prefix = "")
    {
        using var set = SafeTensorsSet.Of(file);
        LoadInto(module, set, prefix);
    }

    /// <summary>Copies tensors "prefix + name" of a checkpoint (one file or its shards) into <paramref name="module"/>,
    /// widening F16/BF16 and refusing non-finite values; known non-parameter buffers (<see cref="Engine.Models.Weights.NonParameterBuffers"/>) are skipped.</summary>
    public static void LoadInto(nn.Module module, SafeTensorsSet file, string prefix = "")
    {
        var expected = module.state_dict();
        var used = new HashSet<string>();
        using (no_grad())
        {
            foreach (var (name, tensor) in expected)
            {
                var key = prefix + name;
                if (!file.Contains(key) && LegacyAttentionKey(key) is { } legacy && file.Contains(legacy)) key = legacy;
                if (!file.Contains(key))
                    throw new InvalidDataException($"{file.Name}: missing weight '{key}' (model expects shape [{string.Join(", ", tensor.shape)}])");
                var info = file.Get(key);
                bool pointwise = IsVaeAttention(key) && tensor.shape.Length == 2 && info.Shape.SequenceEqual([tensor.shape[0], tensor.shape[1], 1L, 1L]);
                if (!info.Shape.SequenceEqual(tensor.shape) && !pointwise)
                    throw new InvalidDataException($"{file.FileOf(key)}: weight '{key}' has shape {info.ShapeText}, model expects [{string.Join(", ", tensor.shape)}]");
                using var source = torch.tensor(file.ReadFloat32(key), tensor.shape);
                tensor.copy_(source);
                used.Add(key);
            }
        }
        var unexpected = file.Tensors.Select(t => t.Name)
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && !used.Contains(n) && !Engine.Models.Weights.NonParameterBuffers.Contains(n[prefix.Length..])).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{file.Name}: unexpected weight '{unexpected[0]}' ({unexpected.Count} in all) not in the model");
    }

    private static bool IsVaeAttention(string key) => key.Contains("mid_block.attentions.0.", StringComparison.Ordinal) && key.Contains("coder.", StringComparison.Ordinal);

    /// <summary>The pre-0.14 diffusers name of a VAE attention key (to_q → query, to_k → key, to_v → value, to_out.0 → proj_attn).</summary>
    private static string? LegacyAttentionKey(string key)
    {
        if (!IsVaeAttention(key)) return null;
        foreach (var (now, old) in new[] { (".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.") })
            if (key.Contains(now, StringComparison.Ordinal)) return key.Replace(now, old, StringComparison.Ordinal);
        return null;
    }

    /// <summary>Number of parameters.</summary>
    public static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());
}
