using System.Text.Json;
using Add.Engine.SafeTensors;

namespace Add.GpuCheck;

/// <summary>
/// A prepared data folder: manifest.json plus cases/NAME.safetensors per case, holding "input.X" for every input and
/// "expected.Y" for every output (fp32).
/// </summary>
public static class CaseStore
{
    public const string ManifestFile = "manifest.json";

    /// <summary>Writes one case's tensors to its safetensors file.</summary>
    public static void SaveCase(string dataDir, CheckCase spec)
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["case"] = spec.Name;
        writer.Metadata["kernel"] = spec.Kernel;
        foreach (var t in spec.Inputs)
            writer.Add("input." + t.Name, t.Values, t.Shape);
        foreach (var t in spec.Outputs)
            writer.Add("expected." + t.Name, t.Values, t.Shape);
        writer.Save(Path.Combine(dataDir, spec.File));
    }

    public static void SaveManifest(string dataDir, Manifest manifest) =>
        File.WriteAllText(Path.Combine(dataDir, ManifestFile), JsonSerializer.Serialize(manifest, GpuCheckJson.Files.Manifest));

    public static Manifest LoadManifest(string dataDir)
    {
        string path = Path.Combine(dataDir, ManifestFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no {ManifestFile} in {dataDir}: run `prepare --out {dataDir}` first", path);
        return JsonSerializer.Deserialize(File.ReadAllText(path), GpuCheckJson.Files.Manifest)
            ?? throw new InvalidDataException($"{path}: empty manifest");
    }

    /// <summary>Reads a case's inputs and expected outputs, checking their shapes against the manifest.</summary>
    public static (Dictionary<string, float[]> Inputs, Dictionary<string, float[]> Expected) LoadCase(string dataDir, CheckCase spec)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dataDir, spec.File));
        return (Read(file, spec.Inputs, "input."), Read(file, spec.Outputs, "expected."));
    }

    private static Dictionary<string, float[]> Read(SafeTensorsFile file, List<CaseTensor> tensors, string prefix)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            var info = file.Get(prefix + t.Name);
            if (!info.Shape.SequenceEqual(t.Shape))
                throw new InvalidDataException($"{file.Path}: '{info.Name}' has shape {info.ShapeText}, the manifest says {t.ShapeText}");
            values[t.Name] = file.ReadFloat32(info.Name);
        }
        return values;
    }
}
