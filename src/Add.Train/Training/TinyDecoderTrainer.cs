using System.CommandLine;
using System.Text.Json;
using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Data;
using Add.Train.Imaging;
using Add.Train.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// `add-train tiny-decoder`: distils a diffusers AutoencoderTiny decoder (TAESD's DecoderTiny; Bohan 2023) from a trained
/// AutoencoderKL. Inputs are UNet-space latents, the posterior mean × scaling_factor of each training image (TAESD's
/// convention: the tiny decoder takes the UNet's latents as they are, its scaling_factor is 1); targets are the full
/// decoder's output of the same latents and the real image, with
/// L = |ŷ − D(z)|₁ + ‖ŷ − D(z)‖² + w_real·(|ŷ − x|₁ + ‖ŷ − x‖²) (means over pixels in [-1, 1]).
/// Reports PSNR on the test split of the tiny decoder against the full decoder and against the real images (and the full
/// decoder's own against the real images), and exports a decoder-only AutoencoderTiny folder (config.json +
/// diffusion_pytorch_model.safetensors, keys <c>decoder.layers.N…</c>). With a student (<c>--student</c>), a share of
/// each batch is the student's own 1- and 2-step latents against their full decodes (<see cref="StudentLatentTargets"/>),
/// and the report adds the test-split PSNR on those.
/// </summary>
public static class TinyDecoderTrainer
{
    /// <param name="Channels">decoder_block_out_channels (one width C for every level, as DecoderTiny requires).</param>
    /// <param name="Blocks">num_decoder_blocks; its length − 1 is the number of ×2 upsamples (the emoji VAE's factor 4: 3 levels).</param>
    /// <param name="RealWeight">w_real: the weight of the real-image term against the full-decoder term.</param>
    /// <param name="StudentShare">the fraction of each batch drawn from the student's latents (when a student is given).</param>
    public sealed record Settings(int Channels, int[] Blocks, int Steps, int Batch, double Lr, double RealWeight, double StudentShare = 0.5);

    public static Settings For(Preset preset) => preset switch
    {
        Preset.Tiny => new(Channels: 16, Blocks: [1, 1, 1], Steps: 40, Batch: 16, Lr: 2e-3, RealWeight: 0.2),
        _ => new(Channels: 32, Blocks: [2, 2, 1], Steps: 6000, Batch: 32, Lr: 2e-3, RealWeight: 0.2),
    };

    /// <summary>PSNRs are in dB on 8-bit images of the test split; FLOPs are per 32×32 image (2 per multiply-add).</summary>
    public sealed record Result(string ExportDir, double PsnrVsFull, double PsnrVsReal, double FullPsnrVsReal, long Parameters,
        long FlopsPerImage, long FullDecoderFlopsPerImage, int[] NumDecoderBlocks, int Channels, double Seconds, int Step,
        double? StudentPsnrVsFull = null, string? Student = null, string? Init = null);

    /// <summary>--student's value that trains on posterior means only.</summary>
    public const string NoStudent = "none";

    /// <summary>The `tiny-decoder` command.</summary>
    public static Command Create()
    {
        var train = new TrainOptions.Cli("tiny-decoder");
        var vae = Opt.Text("--vae", "the full VAE to distil (default: models/add-emoji-32/vae)", "DIR");
        var output = Opt.Text("--out", "export folder, an AutoencoderTiny folder (default: RUN/export/vae_tiny)", "DIR");
        var channels = Opt.OptionalInt("--channels", "decoder_block_out_channels width C, 1 to 512 (default: the preset's)", 1, 512, "C");
        var blocks = Opt.Text("--blocks", "num_decoder_blocks, comma-separated, one per level: the VAE's factor 4 needs 3 levels (default: the preset's, e.g. 2,2,1)", "LIST");
        var student = Opt.Text("--student", "a student pipeline whose 1- and 2-step latents join the training data ('none': posterior means only; default: models/add-emoji-32)", "DIR|none");
        var init = Opt.Text("--init", "start from this AutoencoderTiny folder's decoder (same shape) instead of random weights", "DIR");
        var command = new Command("tiny-decoder", "Distil a tiny decoder (AutoencoderTiny, TAESD-style) from the emoji VAE; exports a vae_tiny folder.");
        train.AddTo(command);
        command.Add(vae); command.Add(output); command.Add(channels); command.Add(blocks); command.Add(student); command.Add(init);
        command.SetAction(p =>
        {
            var (options, cache) = train.Read(p);
            var vaeDir = p.GetValue(vae) ?? Path.Combine(RepoPaths.FindRoot() ?? ".", "models", "add-emoji-32", PipelineLayout.Vae.Name);
            if (!File.Exists(Path.Combine(vaeDir, PipelineLayout.Vae.ConfigFile)))
                throw new UsageException($"no VAE at {vaeDir} (no {PipelineLayout.Vae.ConfigFile}); pass --vae DIR");
            var s = For(options.Preset);
            s = s with { Channels = p.GetValue(channels) ?? s.Channels, Blocks = p.GetValue(blocks) is { } b ? ParseBlocks(b) : s.Blocks };
            var full = VaeTrainer.Load(vaeDir);
            ConfigFor(s, full.Config);                                                  // refuses a shape that does not fit before the data loads
            var outDir = p.GetValue(output) ?? Path.Combine(options.RunDir, "export", PipelineLayout.VaeTiny.Name);
            var studentDir = p.GetValue(student) ?? Path.Combine(RepoPaths.FindRoot() ?? ".", "models", "add-emoji-32");
            if (studentDir == NoStudent) studentDir = null;
            else if (!File.Exists(Path.Combine(studentDir, PipelineLayout.ModelIndexFile)))
                throw new UsageException($"--student {studentDir}: no {PipelineLayout.ModelIndexFile} there; pass a student pipeline folder or 'none'");
            var initDir = p.GetValue(init);
            if (initDir is not null && !File.Exists(Path.Combine(initDir, PipelineLayout.ConfigFile)))
                throw new UsageException($"--init {initDir}: not an AutoencoderTiny folder (no {PipelineLayout.ConfigFile})");
            var result = Train(options, s, TrainOptions.LoadData(cache), full, outDir, Console.Error.WriteLine, studentDir, initDir);
            Console.WriteLine(ResultJson.Serialize(result));
            return 0;
        });
        return command;
    }

    /// <summary>"2,2,1" → [2, 2, 1]; anything else is a usage error naming the value.</summary>
    public static int[] ParseBlocks(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var blocks = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out blocks[i]) || blocks[i] < 0 || blocks[i] > 16)
                throw new UsageException($"--blocks '{text}': expected comma-separated block counts from 0 to 16, e.g. 2,2,1");
        return blocks;
    }

    /// <summary>The exported config: <paramref name="s"/>'s decoder, scaling_factor 1 (UNet-space latents in), an encoder
    /// entry of the same width (the folder carries no encoder weights; the engine then loads the decoder only).</summary>
    /// <exception cref="UsageException">The decoder's factor differs from <paramref name="vae"/>'s.</exception>
    public static AutoencoderTinyConfig ConfigFor(Settings s, AutoencoderKLConfig vae)
    {
        var config = AutoencoderTinyConfig.Shaped(s.Channels, [.. Enumerable.Repeat(1, s.Blocks.Length)], s.Blocks, vae.LatentChannels) with
        {
            Extra = new() { ["_class_name"] = JsonSerializer.SerializeToElement(AutoencoderTinyConfig.ClassName) },
        };
        config.Validate();
        if (config.DecoderFactor != vae.DownsampleFactor)
            throw new UsageException($"--blocks [{string.Join(", ", s.Blocks)}] has {s.Blocks.Length} levels, decoding {config.DecoderFactor}× the latent size; "
                + $"the VAE decodes {vae.DownsampleFactor}×: give {(int)Math.Log2(vae.DownsampleFactor) + 1} levels");
        return config;
    }

    public static Result Train(TrainOptions o, Settings s, Emoji32 data, AutoencoderKL vae, string exportDir, Action<string> log,
        string? studentDir = null, string? initDir = null)
    {
        int steps = o.Steps ?? s.Steps, batch = o.Batch ?? s.Batch;
        var config = ConfigFor(s, vae.Config);
        var train = data.Indices(test: false).ToArray();
        var test = data.Indices(test: true).ToArray();
        if (train.Length == 0 || test.Length == 0) throw new InvalidDataException("the data set needs both train and test images");

        torch.manual_seed(o.Seed);
        var decoder = new DecoderTiny(config);
        if (initDir is null) InitOutputBias(decoder, data, train);
        else LoadInit(decoder, config, initDir);
        var optimizer = optim.AdamW(decoder.parameters(), lr: s.Lr, weight_decay: 0.0);
        using var session = new TrainingSession(o.RunDir, steps, ["loss", "mse_full", "mse_real", "psnr_full", "lr"], [("decoder", decoder)], [optimizer], o.Resume, o.CheckpointEvery);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var trainSet = TinyDecoderTargets.Load(vae, data, train, Path.Combine(o.RunDir, "targets-train.safetensors"));
        using var testSet = TinyDecoderTargets.Load(vae, data, test, Path.Combine(o.RunDir, "targets-test.safetensors"));
        using var studentTrain = studentDir is null ? null : StudentLatentTargets.Load(studentDir, vae, data, train, Path.Combine(o.RunDir, "student-train.safetensors"), log);
        using var studentTest = studentDir is null ? null : StudentLatentTargets.Load(studentDir, vae, data, test, Path.Combine(o.RunDir, "student-test.safetensors"), log);
        log($"tiny-decoder: full-decoder targets of {train.Length} train and {test.Length} test images ready in {watch.Elapsed.TotalSeconds:F1} s"
            + (studentDir is null ? "" : $" (and as many latents of the student {studentDir})"));
        int studentRows = studentTrain is null ? 0 : Math.Clamp((int)Math.Round(batch * s.StudentShare), 1, batch - 1);
        long parameters = StateDict.ParameterCount(decoder);
        long flops = FlopsPerImage(decoder, vae, tiny: true), fullFlops = FlopsPerImage(decoder, vae, tiny: false);
        log($"tiny-decoder: C {s.Channels}, blocks [{string.Join(", ", s.Blocks)}], {parameters:N0} parameters, {flops / 1e6:F0} MFLOP per image "
            + $"(full decoder {fullFlops / 1e6:F0}), batch {batch}, {steps} steps");
        var samples = Enumerable.Range(0, Math.Min(8, test.Length)).ToArray();

        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        decoder.train();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, _) = TrainingSession.StepRandom(o.Seed, step);
            int realRows = batch - studentRows;
            var idx = tensor(Enumerable.Range(0, realRows).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var (z, full, real) = trainSet.Batch(idx);
            if (studentTrain is not null)
            {
                var (zs, fulls) = studentTrain.Batch(tensor(Enumerable.Range(0, studentRows).Select(_ => (long)rng.Next((int)studentTrain.Count)).ToArray()));
                (z, full) = (cat([z, zs], 0), cat([full, fulls], 0));                   // rows [0, realRows) have a real image
            }
            double lr = TrainingSession.CosineLr(step, steps, s.Lr, warmup: Math.Min(200, steps / 10 + 1));
            TrainingSession.SetLearningRate(optimizer, lr);

            var y = decoder.call(z);                                                        // (B, 3, 32, 32)
            var yReal = studentRows == 0 ? y : y.narrow(0, 0, realRows);
            var mseFull = nn.functional.mse_loss(y, full);
            var mseReal = nn.functional.mse_loss(yReal, real);
            var loss = nn.functional.l1_loss(y, full) + mseFull + s.RealWeight * (nn.functional.l1_loss(yReal, real) + mseReal);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(decoder.parameters(), 1.0);
            optimizer.step();
            step++;

            double mf = mseFull.item<float>();
            metrics = new()
            {
                ["loss"] = loss.item<float>(), ["mse_full"] = mf, ["mse_real"] = mseReal.item<float>(),
                ["psnr_full"] = 10 * Math.Log10(4.0 / Math.Max(mf, 1e-10)),   // the batch's, unquantised; range 2 in [-1, 1]
                ["lr"] = lr,
            };
            session.Report(step, metrics, logEvery: 10);
            if (session.CheckpointDue) { session.SaveCheckpoint(step); WriteSamples(decoder, testSet, data, test, samples, o.RunDir, step); }
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        WriteSamples(decoder, testSet, data, test, samples, o.RunDir, step);
        if (step < steps)
        {
            log($"stopped at step {step}; continue with --resume");
            return new Result("", double.NaN, double.NaN, double.NaN, parameters, flops, fullFlops, s.Blocks, s.Channels, session.Seconds, step);
        }

        var (vsFull, vsReal, fullVsReal) = Evaluate(decoder, testSet);
        double? studentVsFull = studentTest is null ? null : EvaluateStudent(decoder, studentTest);
        Export(decoder, config, exportDir);
        log($"tiny-decoder: test PSNR {vsFull:F2} dB vs the full decoder, {vsReal:F2} dB vs the real images (full decoder {fullVsReal:F2} dB)"
            + (studentVsFull is { } sv ? $", {sv:F2} dB vs the full decoder on the student's latents" : "") + $", {session.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, vsFull, vsReal, fullVsReal, parameters, flops, fullFlops, s.Blocks, s.Channels, session.Seconds, step,
            studentVsFull, studentDir, initDir);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    /// <summary>Starts the last conv's bias at the training images' mean colour ((mean + 1)/2 per channel: DecoderTiny
    /// maps [0, 1] to [-1, 1] after it), so the first steps fit shapes rather than the background (emoji are mostly white).</summary>
    static void InitOutputBias(DecoderTiny decoder, Emoji32 data, int[] train)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (name, bias) = decoder.named_parameters().Last();                           // layers.N (conv C→out).bias: (3,)
        if (!name.EndsWith(".bias", StringComparison.Ordinal) || bias.shape.Length != 1)
            throw new InvalidOperationException($"DecoderTiny's last parameter is '{name}' [{string.Join(", ", bias.shape)}], not the output conv's bias");
        var mean = ImageTensors.ToTensor(data, train.Take(1000).ToList()).mean([0, 2, 3]);
        bias.copy_((mean + 1) / 2);
    }

    /// <summary>Test-split PSNR (dB, 8-bit) of the tiny decoder against the full one on the student's latents.</summary>
    static double EvaluateStudent(DecoderTiny decoder, StudentLatentTargets set)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        decoder.eval();
        var y = cat(set.Latents.split(256).Select(chunk => decoder.call(chunk)).ToList(), 0);
        decoder.train();
        return ImageTensors.Psnr(set.Full, y);
    }

    /// <summary>Loads the decoder weights of the AutoencoderTiny folder <paramref name="dir"/>, whose config must match.</summary>
    static void LoadInit(DecoderTiny decoder, AutoencoderTinyConfig config, string dir)
    {
        var other = ConfigJson.Load<AutoencoderTinyConfig>(Path.Combine(dir, PipelineLayout.ConfigFile));
        if (!other.DecoderBlockOutChannels.SequenceEqual(config.DecoderBlockOutChannels) || !other.NumDecoderBlocks.SequenceEqual(config.NumDecoderBlocks)
            || other.LatentChannels != config.LatentChannels)
            throw new UsageException($"--init {dir}: its decoder (channels [{string.Join(", ", other.DecoderBlockOutChannels)}], blocks "
                + $"[{string.Join(", ", other.NumDecoderBlocks)}]) differs from the one being trained");
        using var weights = SafeTensorsFile.Open(Path.Combine(dir, PipelineLayout.DiffusersWeightsFile));
        StateDict.LoadInto(decoder, weights, "decoder.");
    }

    /// <summary>Test-split PSNRs (dB, 8-bit): tiny vs full decoder, tiny vs real, full vs real.</summary>
    public static (double VsFull, double VsReal, double FullVsReal) Evaluate(DecoderTiny decoder, TinyDecoderTargets set)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = decoder.training;
        decoder.eval();
        var y = cat(set.Latents.split(256).Select(chunk => decoder.call(chunk)).ToList(), 0);
        if (wasTraining) decoder.train();
        return (ImageTensors.Psnr(set.Full, y), ImageTensors.Psnr(set.Real, y), ImageTensors.Psnr(set.Real, set.Full));
    }

    /// <summary>Writes <paramref name="dir"/>/config.json (<c>_class_name</c> AutoencoderTiny) and the decoder's weights under
    /// <c>decoder.</c> in diffusion_pytorch_model.safetensors.</summary>
    public static void Export(DecoderTiny decoder, AutoencoderTinyConfig config, string dir)
    {
        Directory.CreateDirectory(dir);
        ConfigJson.Save(config, Path.Combine(dir, PipelineLayout.ConfigFile));
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        StateDict.AddTo(writer, decoder, "decoder.");
        writer.Save(Path.Combine(dir, PipelineLayout.DiffusersWeightsFile));
    }

    /// <summary>FLOPs of one 32×32 decode: the tiny decoder, or the VAE's full decoder (post_quant_conv included).</summary>
    static long FlopsPerImage(DecoderTiny decoder, AutoencoderKL vae, bool tiny)
    {
        using var z = zeros(1, vae.Config.LatentChannels, vae.Config.LatentSize, vae.Config.LatentSize);
        return tiny ? FlopCounter.Count(decoder, () => decoder.call(z).Dispose()) : FlopCounter.Count(vae, () => vae.Decode(z).Dispose());
    }

    static void WriteSamples(DecoderTiny decoder, TinyDecoderTargets set, Emoji32 data, int[] test, int[] positions, string runDir, int step)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = decoder.training;
        decoder.eval();
        var idx = tensor(positions.Select(i => (long)i).ToArray());
        var (z, full, _) = set.Batch(idx);
        var tiny = ImageTensors.ToImages(decoder.call(z));
        if (wasTraining) decoder.train();
        var cells = positions.Select(i => (data.Image(test[i]), "real"))
            .Concat(ImageTensors.ToImages(full).Select(r => (r, "full")))
            .Concat(tiny.Select(r => (r, "tiny"))).ToList();
        Png.Save(CaptionedGrid.Render(cells, columns: positions.Length, scale: 2, captionLines: 1), Path.Combine(runDir, "samples", $"step-{step:D6}.png"));
    }
}
