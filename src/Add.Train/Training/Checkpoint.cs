using System.Text.Json;
using Add.Engine.SafeTensors;
using Add.Train.Model;
using TorchSharp;

namespace Add.Train.Training;

/// <summary>
/// A training checkpoint folder: weights.safetensors (every named module under "name."), optimizer-K.bin (TorchSharp
/// optimizer state: moments and step counts), state.json (step, extra numbers, and the settings a resumed run must keep). Written to "checkpoint.tmp" and then
/// swapped in, so a crash mid-write leaves the previous checkpoint intact.
/// </summary>
public static class Checkpoint
{
    public const string Folder = "checkpoint";

    /// <param name="Settings">choices fixed for the run's lifetime (e.g. "--disc-features": "vit"); null in checkpoints
    /// written before settings were recorded</param>
    public sealed record State(int Step, Dictionary<string, double> Extra, IReadOnlyDictionary<string, string>? Settings = null);

    public static void Save(string runDir, int step, IReadOnlyList<(string Name, torch.nn.Module Module)> modules,
        IReadOnlyList<TorchSharp.Modules.OptimizerHelper> optimizers, Dictionary<string, double>? extra = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var final = Path.Combine(runDir, Folder);
        var tmp = final + ".tmp";
        var old = final + ".old";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        var writer = new SafeTensorsWriter();
        writer.Metadata["step"] = step.ToString();
        foreach (var (name, module) in modules) StateDict.AddTo(writer, module, name + ".");
        writer.Save(Path.Combine(tmp, "weights.safetensors"));
        for (int i = 0; i < optimizers.Count; i++) optimizers[i].save_state_dict(Path.Combine(tmp, $"optimizer-{i}.bin"));
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(new State(step, extra ?? [], settings is { Count: > 0 } ? settings : null)));
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(final)) Directory.Move(final, old);
        Directory.Move(tmp, final);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    const string Remedy = "delete the run's checkpoint folder to start over, or choose another --run";

    /// <summary>state.json, checked: a JSON object with a step ≥ 0 and finite extras; anything else is an
    /// <see cref="InvalidDataException"/> naming the file (a crash or a full disk can leave it truncated).</summary>
    public static State ReadState(string path)
    {
        State? state;
        try { state = JsonSerializer.Deserialize<State>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a valid checkpoint state ({e.Message}); {Remedy}", e); }
        if (state is null || state.Extra is null) throw new InvalidDataException($"{path} holds no checkpoint state; {Remedy}");
        if (state.Step < 0) throw new InvalidDataException($"{path}: step {state.Step} is negative; {Remedy}");
        return state;
    }

    /// <summary>True when <paramref name="runDir"/> holds a complete checkpoint.</summary>
    public static bool Exists(string runDir) => File.Exists(Path.Combine(runDir, Folder, "state.json"));

    /// <summary>Restores modules and optimizers; returns the saved state. <paramref name="check"/> sees the state
    /// before any weight is read (to refuse a resume with other settings).</summary>
    public static State Load(string runDir, IReadOnlyList<(string Name, torch.nn.Module Module)> modules, IReadOnlyList<TorchSharp.Modules.OptimizerHelper> optimizers,
        Action<State>? check = null)
    {
        var dir = Path.Combine(runDir, Folder);
        if (!Exists(runDir))
        {
            // A crash between the two renames leaves only checkpoint.old: use it.
            var old = dir + ".old";
            if (File.Exists(Path.Combine(old, "state.json"))) Directory.Move(old, dir);
            else throw new InvalidDataException($"no checkpoint in {runDir} to resume from");
        }
        var state = ReadState(Path.Combine(dir, "state.json"));
        check?.Invoke(state);
        using (var file = SafeTensorsFile.Open(Path.Combine(dir, "weights.safetensors")))
            foreach (var (name, module) in modules) StateDict.LoadInto(module, file, name + ".");
        for (int i = 0; i < optimizers.Count; i++)
        {
            var path = Path.Combine(dir, $"optimizer-{i}.bin");
            if (!File.Exists(path)) throw new InvalidDataException($"{path} is missing: the checkpoint is incomplete; {Remedy}");
            try { optimizers[i].load_state_dict(path); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"{path} is not a readable optimizer state ({e.GetType().Name}: {e.Message}); {Remedy}", e);
            }
        }
        return state;
    }
}
