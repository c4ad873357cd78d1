using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.SafeTensors;
using Add.Engine.Pipeline;

namespace Add.Cli;

/// <summary>
/// `add info PATH`: a model folder's components checked as the engine checks them (config.json keys and values) with
/// each network's parameter count computed from its config alone (no weights needed), then the tensors of any
/// safetensors files it holds; or what one safetensors file holds.
/// </summary>
public static class InfoCommand
{
    /// <summary>The `info` command.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "a model folder (configs, with or without weights) or a .safetensors file" };
        var command = new Command("info", "Check a model folder's configs and print each network's parameter count (from its config), "
            + "then its safetensors files' tensors; or a safetensors file's tensors, dtypes, shapes and parameter counts.") { path };
        command.SetAction(p => Run(p.GetValue(path)!, p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string path, TextWriter output, TextWriter error)
    {
        if (Directory.Exists(path))
        {
            DescribeConfigs(path, output, error);
            var files = Directory.EnumerateFiles(path, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            foreach (var f in files) Describe(f, output);
            if (files.Count > 0) output.WriteLine($"total: {files.Sum(Parameters):N0} parameters in {files.Count} file(s)");
            return 0;
        }
        if (!File.Exists(path)) throw new UsageException($"info: {path} does not exist");
        Describe(path, output);
        return 0;
    }

    /// <summary>Loads every network config the folder has (the engine's checks: an unsupported value throws naming the
    /// key) and prints its parameter count; a folder with none of them is an error.</summary>
    static void DescribeConfigs(string folder, TextWriter output, TextWriter error)
    {
        void Warn(string message) => error.WriteLine($"add: warning: {message}");
        var rows = new List<(string Name, string Kind, long Parameters)>();
        if (File.Exists(PipelineLayout.Scheduler.Config(folder)))
            ConfigJson.Load<SchedulerConfig>(PipelineLayout.Scheduler.Config(folder), Warn);
        if (File.Exists(PipelineLayout.TextEncoder.Config(folder)))
            rows.Add(("text_encoder", "CLIPTextModel", ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder.Config(folder), Warn))));
        if (File.Exists(PipelineLayout.TextEncoder2.Config(folder)))
            rows.Add(("text_encoder_2", "CLIPTextModelWithProjection",
                ParameterCount.Of(ConfigJson.Load<CLIPTextConfig>(PipelineLayout.TextEncoder2.Config(folder), Warn), withProjection: true)));
        if (File.Exists(PipelineLayout.Unet.Config(folder)))
            rows.Add(("unet", "UNet2DConditionModel", ParameterCount.Of(ConfigJson.Load<UNet2DConditionConfig>(PipelineLayout.Unet.Config(folder), Warn))));
        if (File.Exists(PipelineLayout.Vae.Config(folder)))
            rows.Add(("vae", "AutoencoderKL", ParameterCount.Of(ConfigJson.Load<AutoencoderKLConfig>(PipelineLayout.Vae.Config(folder), Warn))));
        foreach (var (name, config) in new[] { ("vae_tiny", PipelineLayout.VaeTiny.Config(folder)), ("", Path.Combine(folder, PipelineLayout.ConfigFile)) })
        {
            if (!File.Exists(config) || (name.Length == 0 && !DeclaresTiny(config))) continue;
            var tiny = ConfigJson.Load<AutoencoderTinyConfig>(config, Warn);
            string prefix = name.Length == 0 ? "" : name + ".";
            rows.Add((prefix + "encoder", "EncoderTiny", ParameterCount.Encoder(tiny)));
            rows.Add((prefix + "decoder", "DecoderTiny", ParameterCount.Decoder(tiny)));
        }
        if (rows.Count == 0 && !Directory.EnumerateFiles(folder, "*.safetensors", SearchOption.AllDirectories).Any())
            throw new UsageException($"info: {folder} holds no text_encoder, unet, vae or AutoencoderTiny config.json and no .safetensors file");
        if (rows.Count == 0) return;
        output.WriteLine($"{folder}: parameters from the configs");
        static string N(long v) => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, kind, count) in rows) output.WriteLine($"  {name,-14} {kind,-28} {N(count),15}");
        output.WriteLine($"  {"total",-14} {"",-28} {N(rows.Sum(r => r.Parameters)),15}");
    }

    /// <summary>Whether a standalone config.json (a folder such as madebyollin/taesd) names the AutoencoderTiny class.</summary>
    static bool DeclaresTiny(string config)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(config));
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && doc.RootElement.TryGetProperty("_class_name", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String
                && c.GetString() == AutoencoderTinyConfig.ClassName;
        }
        catch (System.Text.Json.JsonException e) { throw new UsageException($"info: {config}: not valid JSON ({e.Message})"); }
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
