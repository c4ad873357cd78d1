using System.CommandLine;
using System.Text.Json;
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
/// `add-train vae`: trains AutoencoderKL on emoji-32 with L = MSE(x̂, x) + β·KL(q(z|x) ‖ N(0, I)) (small β keeps the
/// latent space smooth without blurring), measures the latent scaling factor as 1/std of posterior samples over the
/// training images, reports test-split PSNR, and exports vae/config.json + diffusion_pytorch_model.safetensors.
/// </summary>
public static class VaeTrainer
{
    public sealed record Settings(AutoencoderKLConfig Config, int Steps, int Batch, double Lr, double KlWeight);

    public static Settings For(Preset preset) => preset switch
    {
        Preset.Tiny => new(AutoencoderKLConfig.Emoji32.WithLevels(16, 16, 16) with { NormNumGroups = 8 }, Steps: 60, Batch: 16, Lr: 2e-3, KlWeight: 1e-6),
        _ => new(AutoencoderKLConfig.Emoji32, Steps: 3600, Batch: 32, Lr: 1e-3, KlWeight: 1e-6),
    };

    public sealed record Result(string ExportDir, double TestPsnr, double ScalingFactor, long Parameters, double Seconds, int Step);

    /// <summary>The `vae` command.</summary>
    public static Command Create()
    {
        var train = new TrainOptions.Cli("vae");
        var command = new Command("vae", "Train the VAE (AutoencoderKL); exports to RUN/export/vae.");
        train.AddTo(command);
        command.SetAction(p =>
        {
            var (options, cache) = train.Read(p);
            var result = Train(options, TrainOptions.LoadData(cache), Console.Error.WriteLine);
            Console.WriteLine(ResultJson.Serialize(result));
            return 0;
        });
        return command;
    }

    public static Result Train(TrainOptions o, Emoji32 data, Action<string> log)
    {
        var s = For(o.Preset);
        int steps = o.Steps ?? s.Steps, batch = o.Batch ?? s.Batch;
        torch.manual_seed(o.Seed);
        var vae = new AutoencoderKL(s.Config);
        var optimizer = optim.AdamW(vae.parameters(), lr: s.Lr, weight_decay: 0.0);
        var train = data.Indices(test: false).ToArray();
        var test = data.Indices(test: true).ToArray();
        if (train.Length == 0 || test.Length == 0) throw new InvalidDataException("the data set needs both train and test images");
        using var trainPixels = ImageTensors.ToTensor(data, train);                        // (Ntrain, 3, 32, 32)
        using var session = new TrainingSession(o.RunDir, steps, ["loss", "mse", "kl", "lr"], [("vae", vae)], [optimizer], o.Resume, o.CheckpointEvery);
        long parameters = StateDict.ParameterCount(vae);
        log($"vae: {parameters:N0} parameters, {train.Length} train images, batch {batch}, {steps} steps");
        var samples = test.Take(8).ToArray();

        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        vae.train();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, gen) = TrainingSession.StepRandom(o.Seed, step);
            var idx = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var x = trainPixels.index_select(0, idx);
            double lr = TrainingSession.CosineLr(step, steps, s.Lr, warmup: Math.Min(200, steps / 10 + 1));
            TrainingSession.SetLearningRate(optimizer, lr);

            var (mean, logvar) = vae.Encode(x);
            var z = mean + (0.5 * logvar).exp() * randn(mean.shape, generator: gen);
            var recon = vae.Decode(z);
            var mse = nn.functional.mse_loss(recon, x);
            var kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean();   // per latent element
            var loss = mse + s.KlWeight * kl;
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(vae.parameters(), 1.0);
            optimizer.step();
            step++;

            metrics = new() { ["loss"] = loss.item<float>(), ["mse"] = mse.item<float>(), ["kl"] = kl.item<float>(), ["lr"] = lr };
            session.Report(step, metrics, logEvery: 10);
            if (session.CheckpointDue) { session.SaveCheckpoint(step); WriteSamples(vae, data, samples, o.RunDir, step); }
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        WriteSamples(vae, data, samples, o.RunDir, step);
        if (step < steps) { log($"stopped at step {step}; continue with --resume"); return new Result("", double.NaN, double.NaN, parameters, session.Seconds, step); }

        vae.eval();
        double psnr = TestPsnr(vae, data, test);
        double scaling = MeasureScalingFactor(vae, data, train, o.Seed);
        var exportDir = Path.Combine(o.RunDir, "export", PipelineLayout.Vae.Name);
        Export(vae, s.Config with { ScalingFactor = scaling }, exportDir);
        log($"vae: test PSNR {psnr:F2} dB, scaling factor {scaling:F4}, {session.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, psnr, scaling, parameters, session.Seconds, step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    /// <summary>Mean PSNR (dB, on 8-bit images) of posterior-mean reconstructions of the test split.</summary>
    public static double TestPsnr(AutoencoderKL vae, Emoji32 data, int[] test)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(data, test);
        var recon = cat(x.split(256).Select(chunk => vae.forward(chunk)).ToList(), 0);
        return ImageTensors.Psnr(x, recon);
    }

    /// <summary>scaling_factor = 1 / std(z), z ~ q(z|x) over up to 2,000 training images (Rombach et al. 2022, App. G).</summary>
    public static double MeasureScalingFactor(AutoencoderKL vae, Emoji32 data, int[] train, int seed)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(data, train.Take(2000).ToList());
        var gen = new Generator((ulong)seed + 17);
        var zs = x.split(256).Select(chunk =>
        {
            var (mean, logvar) = vae.Encode(chunk);
            return mean + (0.5 * logvar).exp() * randn(mean.shape, generator: gen);
        }).ToList();
        return 1.0 / cat(zs, 0).std().item<float>();
    }

    public static void Export(AutoencoderKL vae, AutoencoderKLConfig config, string dir)
    {
        Directory.CreateDirectory(dir);
        ConfigJson.Save(config, Path.Combine(dir, PipelineLayout.Vae.ConfigFile));
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        StateDict.AddTo(writer, vae);
        writer.Save(Path.Combine(dir, PipelineLayout.Vae.WeightsFile!));
    }

    /// <summary>Loads an exported VAE folder (config.json + weights).</summary>
    public static AutoencoderKL Load(string dir)
    {
        var config = ConfigJson.Load<AutoencoderKLConfig>(Path.Combine(dir, PipelineLayout.Vae.ConfigFile), Console.Error.WriteLine);
        var vae = new AutoencoderKL(config);
        using var file = SafeTensorsFile.Open(Path.Combine(dir, PipelineLayout.Vae.WeightsFile!));
        StateDict.LoadInto(vae, file);
        vae.eval();
        return vae;
    }

    static void WriteSamples(AutoencoderKL vae, Emoji32 data, int[] indices, string runDir, int step)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = vae.training;
        vae.eval();
        var x = ImageTensors.ToTensor(data, indices);
        var recon = ImageTensors.ToImages(vae.forward(x));
        if (wasTraining) vae.train();
        var cells = indices.Select(i => (data.Image(i), "original")).Concat(recon.Select(r => (r, "reconstruction"))).ToList();
        Png.Save(CaptionedGrid.Render(cells, columns: indices.Length, scale: 2, captionLines: 1), Path.Combine(runDir, "samples", $"step-{step:D6}.png"));
    }
}
