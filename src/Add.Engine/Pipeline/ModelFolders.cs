using Add.Engine.SafeTensors;

namespace Add.Engine.Pipeline;

/// <summary>Copies of a pipeline folder: its model_index.json and component folders (not a card, samples or logs).</summary>
public static class ModelFolders
{
    public static readonly string[] Parts = [PipelineLayout.ModelIndexFile, .. PipelineLayout.Components.Select(c => c.Name), .. PipelineLayout.OptionalComponents.Select(c => c.Name)];

    /// <summary>Copies the pipeline at <paramref name="source"/> to <paramref name="target"/>; with <paramref name="asF16"/>
    /// every safetensors file is rewritten with F16 tensors (half the bytes; the engine widens them on load).</summary>
    public static void Copy(string source, string target, bool asF16 = false)
    {
        foreach (var f in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, f);
            if (!Parts.Contains(relative.Split(Path.DirectorySeparatorChar)[0])) continue;
            var to = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            if (!asF16 || !f.EndsWith(".safetensors", StringComparison.Ordinal)) { File.Copy(f, to, overwrite: true); continue; }
            using var file = SafeTensorsFile.Open(f);
            var writer = new SafeTensorsWriter();
            foreach (var t in file.Tensors) writer.AddAsF16(t.Name, file.ReadFloat32(t.Name), t.Shape);
            writer.Save(to);
        }
    }
}
