using System.Globalization;
using System.Runtime.InteropServices;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;

namespace Add.GpuCheck;

/// <summary>
/// A real-scale model for the GPU machine without carrying its weights (SD-Turbo in fp32 is 5.2 GB; a device call
/// carries 64 MiB). `layout` (here) lists every tensor of a model folder's safetensors files, one line each:
/// <c>FILE\tNAME\tD0,D1,...</c> (FILE relative to the folder). `random-model` (there) writes a folder with the configs
/// and tokenizer copied from a config folder (models/configs/sd-turbo) and, for each layout line, an F32 tensor of
/// seeded values: 1-D tensors whose name holds "norm" are a norm's weight (1) or bias (0); every other tensor is
/// uniform in ±1/√fan_in (fan_in = the product of all dims but the first, or the length of a 1-D bias), the bound
/// of torch's default Linear/Conv init, so activations stay O(1) through the network. Each element's value depends
/// only on the seed, the tensor's place in the layout and its index (splitmix64), so the file is the same for any
/// thread count.
/// </summary>
public static class RandomWeights
{
    /// <summary>Writes the layout of <paramref name="modelDir"/>'s safetensors files to <paramref name="layoutFile"/>.</summary>
    public static int Layout(string modelDir, string layoutFile)
    {
        var lines = new List<string>();
        foreach (var path in Directory.EnumerateFiles(modelDir, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(modelDir, path).Replace(Path.DirectorySeparatorChar, '/');
            using var file = SafeTensorsFile.Open(path);
            foreach (var t in file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
                lines.Add($"{relative}\t{t.Name}\t{string.Join(",", t.Shape)}");
        }
        if (lines.Count == 0)
            throw new ArgumentException($"no safetensors files under {modelDir}");
        File.WriteAllLines(layoutFile, lines);
        Console.WriteLine($"{lines.Count} tensors in {layoutFile}");
        return 0;
    }

    /// <summary>Writes a model folder at <paramref name="outDir"/>: <paramref name="configDir"/>'s files, and the
    /// tensors of <paramref name="layoutFile"/> with seeded values.</summary>
    public static int Write(string configDir, string layoutFile, string outDir, ulong seed)
    {
        if (!Directory.Exists(configDir))
            throw new ArgumentException($"--config {configDir}: no such folder");
        ModelFolders.Copy(configDir, outDir);     // model_index.json and the component folders (configs, tokenizer)
        var byFile = File.ReadAllLines(layoutFile).Select(Parse).GroupBy(t => t.File);
        ulong tensorIndex = 0;
        foreach (var group in byFile)
        {
            var writer = new SafeTensorsWriter();
            long elements = 0;
            foreach (var (_, name, shape) in group)
            {
                ulong stream = seed * 0x9E3779B97F4A7C15UL + ++tensorIndex;
                var rule = Rule(name, shape);
                writer.Add(name, SafeTensorsDType.F32, shape, bytes => Fill(MemoryMarshal.Cast<byte, float>(bytes), rule, stream));
                elements += shape.Aggregate(1L, (a, b) => a * b);
            }
            var path = Path.Combine(outDir, group.Key);
            writer.Save(path);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: {group.Count()} tensors, {elements:N0} values"));
        }
        return 0;
    }

    private static (string File, string Name, long[] Shape) Parse(string line)
    {
        var parts = line.Split('\t');
        if (parts.Length != 3)
            throw new ArgumentException($"layout line '{line}': expected FILE<tab>NAME<tab>D0,D1,...");
        var shape = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        return (parts[0], parts[1], shape);
    }

    /// <summary>(constant, or NaN for uniform values) and the uniform bound.</summary>
    private static (float Constant, float Bound) Rule(string name, long[] shape)
    {
        if (shape.Length == 1 && name.Contains("norm", StringComparison.Ordinal))
            return (name.EndsWith(".weight", StringComparison.Ordinal) ? 1f : 0f, 0f);
        long fanIn = shape.Length <= 1 ? Math.Max(1, shape.FirstOrDefault(1)) : shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return (float.NaN, (float)(1 / Math.Sqrt(fanIn)));
    }

    private static void Fill(Span<float> values, (float Constant, float Bound) rule, ulong stream)
    {
        if (!float.IsNaN(rule.Constant))
        {
            values.Fill(rule.Constant);
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            // splitmix64 of (stream, i): 24 high bits -> [0, 1) -> [-bound, bound).
            ulong z = stream + (ulong)i * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = ((z >> 40) * (1f / (1 << 24)) * 2 - 1) * rule.Bound;
        }
    }
}
