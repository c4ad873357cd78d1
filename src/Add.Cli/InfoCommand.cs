using System.CommandLine;
using Add.CommandLine;
using Add.Engine.SafeTensors;
using Add.Engine.Pipeline;

namespace Add.Cli;

/// <summary>`add info PATH`: a model folder's configs and tensors, or what one safetensors file holds.</summary>
public static class InfoCommand
{
    /// <summary>The `info` command.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "a model folder or a .safetensors file" };
        var command = new Command("info", "List a model folder's configs and tensors, or a safetensors file's tensors, dtypes, shapes and parameter counts.") { path };
        command.SetAction(p => Run(p.GetValue(path)!, p.InvocationConfiguration.Output));
        return command;
    }

    static int Run(string path, TextWriter output)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new UsageException($"info: {path} holds no .safetensors file");
            foreach (var json in Directory.EnumerateFiles(path, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(json) == PipelineLayout.VocabFile) { output.WriteLine($"{json}: tokenizer vocabulary"); continue; }
                output.WriteLine($"{json}:");
                foreach (var line in File.ReadLines(json).Select(l => l.Trim()).Where(l => l.Length > 1))
                    output.WriteLine($"  {line.TrimEnd(',')}");
            }
            foreach (var f in files) Describe(f, output);
            output.WriteLine($"total: {files.Sum(Parameters):N0} parameters in {files.Count} file(s)");
            return 0;
        }
        if (!File.Exists(path)) throw new UsageException($"info: {path} does not exist");
        Describe(path, output);
        return 0;
    }

    static long Parameters(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Tensors.Sum(t => t.ElementCount);
    }

    static void Describe(string path, TextWriter output)
    {
        SafeTensorsFile file;
        try { file = SafeTensorsFile.Open(path); }
        catch (SafeTensorsFormatException e) { throw new UsageException($"info: {e.Message}"); }
        using (file)
        {
            output.WriteLine($"{path}: {file.Tensors.Count} tensors, {file.Tensors.Sum(t => t.ElementCount):N0} parameters");
            foreach (var (k, v) in file.Metadata) output.WriteLine($"  metadata {k} = {v}");
            foreach (var t in file.Tensors)
                output.WriteLine($"  {t.Name,-64} {t.DType,-5} {t.ShapeText,-20} {t.ElementCount,12:N0}");
        }
    }
}
