using System.CommandLine;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Add.Train.Pipeline;

/// <summary>
/// `add-train random-model --config DIR --out DIR [--seed S] [--dtype f32|f16]`: a diffusers pipeline folder with
/// seeded random weights for the configs in DIR (model_index.json, scheduler/, tokenizer/, and the networks'
/// config.json, vae_tiny's and SDXL's text_encoder_2 / tokenizer_2 included when declared), or an AutoencoderTiny folder from a lone AutoencoderTiny config.json: what engine and reference are validated on at full size when the real weights are not at hand.
/// <para>
/// Initialisation, diffusers-style (its models keep PyTorch's module defaults): Linear and Conv2d weight and bias
/// U(−1/√fan_in, 1/√fan_in) (PyTorch's <c>reset_parameters</c>: kaiming_uniform with a = √5), LayerNorm and GroupNorm
/// weight 1 and bias 0, embeddings N(0, 0.02) (transformers' CLIP <c>initializer_range</c>). Every layer then roughly
/// keeps its input's scale or shrinks it, and the norms and residual paths keep activations finite through the full
/// network. A parameter of any other module is an error, never left uninitialised.
/// </para>
/// <para>Memory: one network at a time is built (from its config, with the reference modules), initialised, written
/// tensor by tensor and disposed before the next (the SD-Turbo UNet alone is 3.5 GB in fp32).</para>
/// </summary>
public static class RandomModel
{
    /// <summary>embeddings ~ N(0, σ²) with σ = transformers' CLIP initializer_range.</summary>
    public const double EmbeddingStd = 0.02;

    /// <summary>The `random-model` command.</summary>
    public static Command Create()
    {
        var config = Opt.Text("--config", "folder of configs in the diffusers layout: model_index.json, scheduler/, tokenizer/, text_encoder/config.json, unet/config.json, vae/config.json (and vae_tiny/, text_encoder_2/ and tokenizer_2/ when declared); or a folder with only an AutoencoderTiny config.json (models/configs/taesd)", "DIR");
        config.Required = true;
        var output = Opt.Text("--out", "pipeline folder to write (must not exist or be empty)", "DIR");
        output.Required = true;
        var seed = Opt.LongRange("--seed", $"seed of the weights ({Opt.Range(0, CommonOptions.MaxSeed)}); the same seed writes the same bytes", 0, 0, CommonOptions.MaxSeed, "S");
        var dtype = Opt.Choice("--dtype", "tensor type of the weights files: f32, or f16 (half the bytes; the engine widens them on load)", "dtype",
            SafeTensorsDType.F32, [("f32", SafeTensorsDType.F32), ("f16", SafeTensorsDType.F16)]);
        var command = new Command("random-model",
            "Write a diffusers pipeline folder with seeded random weights (diffusers-style initialisation) for the configs in --config.")
        { config, output, seed, dtype };
        command.SetAction(p =>
        {
            Write(p.GetValue(config)!, p.GetValue(output)!, p.GetValue(seed), p.GetValue(dtype), p.InvocationConfiguration.Output.WriteLine);
            return 0;
        });
        return command;
    }

    /// <summary>Writes the folder: copies model_index.json, scheduler/ and tokenizer/, then for text_encoder, unet, vae and
    /// (when declared) vae_tiny, one at a time, copies config.json and writes seeded random weights as <paramref name="dtype"/>.
    /// A config folder without model_index.json whose config.json is an AutoencoderTiny (models/configs/taesd) gives a
    /// single-component folder: config.json and diffusion_pytorch_model.safetensors.</summary>
    public static void Write(string configDir, string outDir, long seed, SafeTensorsDType dtype = SafeTensorsDType.F32, Action<string>? log = null)
    {
        if (dtype is not (SafeTensorsDType.F32 or SafeTensorsDType.F16)) throw new ArgumentException($"dtype {dtype}: F32 or F16", nameof(dtype));
        if (!Directory.Exists(configDir)) throw new UsageException($"config folder not found: {configDir}");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new UsageException($"--out {outDir} is not empty: write a random model to a new folder (files left there could shadow the new weights)");
        if (!File.Exists(PipelineLayout.ModelIndex(configDir)) && File.Exists(Path.Combine(configDir, PipelineLayout.ConfigFile)))
        {
            WriteTiny(configDir, outDir, seed, dtype, log);
            return;
        }
        var index = ModelIndex.Load(configDir);   // the folder declares the components the engine runs
        Directory.CreateDirectory(outDir);
        File.Copy(PipelineLayout.ModelIndex(configDir), PipelineLayout.ModelIndex(outDir));
        foreach (var component in index.DualEncoder ? [PipelineLayout.Scheduler, PipelineLayout.Tokenizer, PipelineLayout.Tokenizer2] : new[] { PipelineLayout.Scheduler, PipelineLayout.Tokenizer })
            CopyFolder(component.Folder(configDir), component.Folder(outDir));

        void Warn(string m) => log?.Invoke($"add-train: warning: {m}");
        Network(PipelineLayout.TextEncoder, 1, c => new CLIPTextModel(ConfigJson.Load<CLIPTextConfig>(c, Warn)));
        if (index.DualEncoder)
            Network(PipelineLayout.TextEncoder2, 5, c => new CLIPTextModel(ConfigJson.Load<CLIPTextConfig>(c, Warn), withProjection: true));
        Network(PipelineLayout.Unet, 2, c => new UNet2DConditionModel(ConfigJson.Load<UNet2DConditionConfig>(c, Warn)));
        Network(PipelineLayout.Vae, 3, c => new AutoencoderKL(ConfigJson.Load<AutoencoderKLConfig>(c, Warn)));
        if (index.Declares(PipelineLayout.VaeTiny.Name))
            Network(PipelineLayout.VaeTiny, 4, c => new AutoencoderTiny(ConfigJson.Load<AutoencoderTinyConfig>(c, Warn)));

        void Network(PipelineComponent component, int index, Func<string, nn.Module> build)
        {
            var clock = Stopwatch.StartNew();
            var source = component.Config(configDir);
            if (!File.Exists(source)) throw new FileNotFoundException($"config not found: {source}", source);
            using (var module = build(source))
            {
                Directory.CreateDirectory(component.Folder(outDir));
                File.Copy(source, component.Config(outDir));
                long parameters = Initialise(module, ComponentSeed(seed, index));
                var path = component.Weights(outDir);
                Save(module, path, dtype);
                log?.Invoke($"{component.Name}: {parameters:N0} parameters, {new FileInfo(path).Length / 1e9:F3} GB {dtype} in {component.Name}/{component.WeightsFile} ({clock.Elapsed.TotalSeconds:F1} s)");
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>A standalone AutoencoderTiny folder (config.json + weights, as madebyollin/taesd) from <paramref name="configDir"/>'s
    /// config.json, seeded as a pipeline's vae_tiny of the same seed.</summary>
    static void WriteTiny(string configDir, string outDir, long seed, SafeTensorsDType dtype, Action<string>? log)
    {
        var source = Path.Combine(configDir, PipelineLayout.ConfigFile);
        var config = ConfigJson.Load<AutoencoderTinyConfig>(source, m => log?.Invoke($"add-train: warning: {m}"));
        if (config.DeclaredClass is null)
            throw new UsageException($"{source}: no model_index.json beside it and no \"_class_name\": \"{AutoencoderTinyConfig.ClassName}\", so neither a pipeline nor an AutoencoderTiny folder");
        Directory.CreateDirectory(outDir);
        using var module = new AutoencoderTiny(config);
        File.Copy(source, Path.Combine(outDir, PipelineLayout.ConfigFile));
        long parameters = Initialise(module, ComponentSeed(seed, 4));
        var path = Path.Combine(outDir, PipelineLayout.DiffusersWeightsFile);
        Save(module, path, dtype);
        log?.Invoke($"{AutoencoderTinyConfig.ClassName}: {parameters:N0} parameters, {new FileInfo(path).Length / 1e6:F1} MB {dtype} in {path}");
    }

    /// <summary>The seed of component <paramref name="index"/>: distinct per component and per seed (a golden-ratio mix,
    /// so seed s's UNet is not seed s+1's text encoder).</summary>
    public static ulong ComponentSeed(long seed, int index) => unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index);

    /// <summary>Re-initialises every parameter of <paramref name="root"/> from one seeded generator, module by module in
    /// registration order (see the class comment); returns the parameter count.</summary>
    public static long Initialise(nn.Module root, ulong seed)
    {
        using var _ = no_grad();
        var generator = new Generator(seed);
        long count = 0;
        foreach (var (name, module) in root.named_modules())
        {
            var own = module.named_parameters(recurse: false).ToList();
            if (own.Count == 0) continue;
            foreach (var (pname, p) in own)
            {
                count += p.numel();
                switch (module)
                {
                    case Linear or Conv2d:
                        // PyTorch's default: kaiming_uniform(a = √5) gives bound = gain·√(3/fan_in) = √(1/3)·√(3/fan_in) = 1/√fan_in;
                        // the bias uses the same bound. fan_in = in_features, or in_channels·k·k.
                        var weight = module.named_parameters(recurse: false).First(x => x.name == "weight").parameter;
                        double bound = 1 / Math.Sqrt(weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b));
                        p.uniform_(-bound, bound, generator);
                        break;
                    case LayerNorm or GroupNorm:
                        NormInit.Identity(pname, p);
                        break;
                    case Embedding:
                        p.normal_(0, EmbeddingStd, generator);
                        break;
                    default:
                        throw new InvalidOperationException($"random-model: parameter '{name}.{pname}' of a {module.GetType().Name} has no initialisation rule");
                }
            }
        }
        return count;
    }

    /// <summary>Writes the module's state dict (F32, or F16 rounded to nearest even), one tensor in memory at a time.</summary>
    public static void Save(nn.Module module, string path, SafeTensorsDType dtype)
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        foreach (var (name, tensor) in module.state_dict())
        {
            if (tensor.dtype != ScalarType.Float32) throw new InvalidOperationException($"{name}: expected float32, got {tensor.dtype}");
            var t = tensor;
            writer.Add(name, dtype, t.shape, span =>
            {
                using var cpu = t.detach().cpu().contiguous();
                var values = MemoryMarshal.Cast<byte, float>(cpu.bytes);
                if (dtype == SafeTensorsDType.F16) TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(span));
                else values.CopyTo(MemoryMarshal.Cast<byte, float>(span));
            });
        }
        writer.Save(path);
    }

    static void CopyFolder(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"config folder lacks {from}");
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }
}
