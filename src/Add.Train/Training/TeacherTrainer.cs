using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Engine.Text;
using Add.Train.Data;
using Add.Train.Imaging;
using Add.Train.Model;
using Add.Train.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// `add-train teacher`: trains the text encoder and UNet jointly on VAE latents of emoji-32 with the ε-prediction
/// objective L = ‖ε − ε̂θ(√ᾱ_t z + √(1−ᾱ_t) ε, t, c)‖² (Ho et al. 2020, Eq. 14), t ~ U{0..999}; the caption is replaced by
/// "" 10% of the time so one model gives both conditional and unconditional predictions for classifier-free guidance
/// (Ho &amp; Salimans 2022). Exports the EMA weights as a pipeline folder.
/// </summary>
public static class TeacherTrainer
{
    public sealed record Settings(UNet2DConditionConfig Unet, CLIPTextConfig Text, int Steps, int Batch, double Lr, double EmaDecay, double CaptionDrop);

    public static Settings For(Preset preset, int vocabSize) => preset switch
    {
        Preset.Tiny => new(
            UNet2DConditionConfig.Emoji32 with { BlockOutChannels = [32, 32], DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"], UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"], NormNumGroups = 8, AttentionHeadDim = 2, CrossAttentionDim = 32 },
            CLIPTextConfig.Emoji32(vocabSize) with { HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2 },
            Steps: 80, Batch: 16, Lr: 1e-3, EmaDecay: 0.9, CaptionDrop: 0.1),
        _ => new(UNet2DConditionConfig.Emoji32, CLIPTextConfig.Emoji32(vocabSize), Steps: 9000, Batch: 64, Lr: 3e-4, EmaDecay: 0.999, CaptionDrop: 0.1),
    };

    /// <summary>Captions sampled at checkpoints (and in the model card): 16 fixed test-split captions.</summary>
    public static List<string> FixedCaptions(Emoji32 data, int count = 16)
        => data.Indices(test: true).Select(i => data.Items[i].Caption).Distinct().Where((_, k) => k % 7 == 0).Take(count).ToList();

    public sealed record Result(string ExportDir, long UnetParameters, long TextParameters, double FinalLoss, double Seconds, int Step);

    /// <summary>The `teacher` command.</summary>
    public static Command Create()
    {
        var train = new TrainOptions.Cli("teacher");
        var vae = Opt.Text("--vae", "the trained VAE (default: runs/vae/export/vae, runs/vae-tiny/... for the tiny preset)", "DIR");
        var output = Opt.Text("--out", "export folder (default: models/emoji-32-teacher; RUN/export for the tiny preset)", "DIR");
        var command = new Command("teacher", "Train the teacher LDM (text encoder + UNet) on VAE latents; exports a pipeline folder.");
        train.AddTo(command);
        command.Add(vae); command.Add(output);
        command.SetAction(p =>
        {
            var (options, cache) = train.Read(p);
            var root = RepoPaths.FindRoot() ?? ".";
            var vaeDir = p.GetValue(vae) ?? Path.Combine(root, "runs", options.Preset == Preset.Tiny ? "vae-tiny" : "vae", "export", PipelineLayout.Vae.Name);
            var outDir = p.GetValue(output) ?? options.DefaultExport("emoji-32-teacher");
            if (!Directory.Exists(vaeDir)) throw new UsageException($"no VAE at {vaeDir}; run 'add-train vae' first or pass --vae DIR");
            var result = Train(options, TrainOptions.LoadData(cache), VaeTrainer.Load(vaeDir), outDir, Console.Error.WriteLine);
            Console.WriteLine(ResultJson.Serialize(result));
            return 0;
        });
        return command;
    }

    public static Result Train(TrainOptions o, Emoji32 data, AutoencoderKL vae, string exportDir, Action<string> log)
    {
        var train = data.Indices(test: false).ToArray();
        var tokenizer = WordTokenizer.Build(train.Select(i => data.Items[i].Caption), maxLength: 16);
        var s = For(o.Preset, tokenizer.VocabSize);
        int steps = o.Steps ?? s.Steps, batch = o.Batch ?? s.Batch;
        torch.manual_seed(o.Seed);
        var unet = new UNet2DConditionModel(s.Unet with { CrossAttentionDim = s.Text.HiddenSize, SampleSize = vae.Config.LatentSize, InChannels = vae.Config.LatentChannels, OutChannels = vae.Config.LatentChannels });
        var text = new CLIPTextModel(s.Text with { MaxPositionEmbeddings = tokenizer.MaxLength });
        var emaUnet = new UNet2DConditionModel(unet.Config);
        var emaText = new CLIPTextModel(text.Config);
        Ema.Copy(emaUnet, unet); Ema.Copy(emaText, text);
        var optimizer = optim.AdamW(unet.parameters().Concat(text.parameters()), lr: s.Lr, weight_decay: 0.01);
        var schedulerConfig = SchedulerConfig.EmojiTeacher;
        var schedule = new ReferenceSchedule(schedulerConfig);
        using var sqrtAb = tensor(schedule.AlphasCumprod.Select(a => (float)Math.Sqrt(a)).ToArray());
        using var sqrt1mAb = tensor(schedule.AlphasCumprod.Select(a => (float)Math.Sqrt(1 - a)).ToArray());

        // Posterior of every training image, once: mean and std (N, 4, s, s).
        using var latents = new LatentBank(vae, data, train);
        using var ids = tensor(train.SelectMany(i => tokenizer.Encode(data.Items[i].Caption).Select(t => (long)t)).ToArray(), [train.Length, tokenizer.MaxLength]);
        using var emptyIds = tensor(tokenizer.Encode("").Select(t => (long)t).ToArray(), [1, tokenizer.MaxLength]);

        using var session = new TrainingSession(o.RunDir, steps, ["loss", "lr"],
            [("unet", unet), ("text_encoder", text), ("ema_unet", emaUnet), ("ema_text_encoder", emaText)], [optimizer], o.Resume, o.CheckpointEvery);
        long unetParams = StateDict.ParameterCount(unet), textParams = StateDict.ParameterCount(text);
        log($"teacher: UNet {unetParams:N0} + text encoder {textParams:N0} parameters, vocabulary {tokenizer.VocabSize}, {train.Length} images, batch {batch}, {steps} steps");
        var captions = FixedCaptions(data, 8);

        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        double lossAvg = double.NaN;
        unet.train(); text.train();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, gen) = TrainingSession.StepRandom(o.Seed, step);
            var idx = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var drop = tensor(Enumerable.Range(0, batch).Select(_ => rng.NextDouble() < s.CaptionDrop).ToArray()).unsqueeze(1);
            var t = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(schedule.NumTrainTimesteps)).ToArray());
            double lr = TrainingSession.CosineLr(step, steps, s.Lr, warmup: Math.Min(500, steps / 10 + 1));
            TrainingSession.SetLearningRate(optimizer, lr);

            var z = latents.Sample(idx, gen);
            var noise = randn(z.shape, generator: gen);
            var xt = sqrtAb.index_select(0, t).view(-1, 1, 1, 1) * z + sqrt1mAb.index_select(0, t).view(-1, 1, 1, 1) * noise;
            var tokenIds = where(drop, emptyIds.expand(batch, -1), ids.index_select(0, idx));
            var context = text.forward(tokenIds);
            var eps = unet.forward(xt, t, context);
            var loss = nn.functional.mse_loss(eps, noise);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(unet.parameters().Concat(text.parameters()), 1.0);
            optimizer.step();
            Ema.Update(emaUnet, unet, s.EmaDecay);
            Ema.Update(emaText, text, s.EmaDecay);
            step++;

            double l = loss.item<float>();
            lossAvg = double.IsNaN(lossAvg) ? l : 0.98 * lossAvg + 0.02 * l;
            metrics = new() { ["loss"] = l, ["lr"] = lr };
            session.Report(step, new Dictionary<string, double> { ["loss"] = lossAvg, ["lr"] = lr }, logEvery: 10);
            if (session.CheckpointDue)
            {
                session.SaveCheckpoint(step);
                WriteSamples(Pipeline(tokenizer, emaText, emaUnet, vae, schedulerConfig), captions, o.RunDir, step);
                unet.train(); text.train();
            }
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        var pipeline = Pipeline(tokenizer, emaText, emaUnet, vae, schedulerConfig);
        WriteSamples(pipeline, captions, o.RunDir, step);
        if (step < steps) { log($"stopped at step {step}; continue with --resume"); return new Result("", unetParams, textParams, lossAvg, session.Seconds, step); }
        pipeline.Save(exportDir, "StableDiffusionPipeline");
        log($"teacher: smoothed loss {lossAvg:F4}, {session.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, unetParams, textParams, lossAvg, session.Seconds, step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    static ReferencePipeline Pipeline(TextTokenizer tokenizer, CLIPTextModel text, UNet2DConditionModel unet, AutoencoderKL vae, SchedulerConfig scheduler)
    {
        var p = new ReferencePipeline { Tokenizer = tokenizer, TextEncoder = text, Unet = unet, Vae = vae, Scheduler = scheduler };
        p.Eval();
        return p;
    }

    /// <summary>A 25-step DDIM grid (guidance 4) of the fixed captions.</summary>
    static void WriteSamples(ReferencePipeline p, List<string> captions, string runDir, int step)
    {
        var images = p.Generate(captions, SamplerKind.Ddim, 25, guidance: 4, seed: 1);
        Png.Save(CaptionedGrid.Render(images.Zip(captions).ToList(), columns: 8, scale: 2), Path.Combine(runDir, "samples", $"step-{step:D6}.png"));
    }
}
