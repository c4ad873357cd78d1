using System.CommandLine;
using Add.CommandLine;
using Add.Engine;
using Add.Engine.Configs;
using Add.Engine.Imaging;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Imaging;
using Add.Train.Model;
using Add.Train.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// `add-train add`: Adversarial Diffusion Distillation (Sauer et al. 2023) of the teacher pipeline into a 1-4 step
/// student. Exports the EMA student as a complete pipeline folder (student UNet + the teacher's text encoder, VAE and
/// tokenizer + a scheduler config naming the student timesteps).
/// </summary>
public static class AddTrainer
{
    public enum Init { Teacher, Random }
    public enum Space { Latent, Pixel }

    public sealed record Settings(int Steps, int Batch, double StudentLr, double HeadsLr, double EmaDecay);

    public static Settings For(Preset preset) => preset switch
    {
        Preset.Tiny => new(Steps: 6, Batch: 8, StudentLr: 1e-4, HeadsLr: 2e-4, EmaDecay: 0.9),
        _ => new(Steps: 4000, Batch: 32, StudentLr: 1e-5, HeadsLr: 1e-4, EmaDecay: 0.999),
    };

    public sealed record Result(string ExportDir, Dictionary<string, double> FinalMetrics, double Seconds, int Step);

    /// <summary>The `add` command.</summary>
    public static Command Create()
    {
        var train = new TrainOptions.Cli("add");
        var teacher = Opt.Text("--teacher", "the teacher pipeline (default: models/emoji-32-teacher)", "DIR");
        var features = Opt.Text("--features", "the frozen feature network (default: models/emoji-32-features; unused with --disc-features teacher)", "DIR");
        var discFeatures = Opt.Choice("--disc-features", "what the discriminator heads see: vit (ADD: F on decoded pixels) or teacher (LADD: the teacher UNet's features of re-noised latents)",
            "features", DiscFeatures.Vit, Opt.EnumChoices<DiscFeatures>());
        var output = Opt.Text("--out", "export folder (default: models/add-emoji-32; RUN/export for the tiny preset)", "DIR");
        var noAdv = Opt.Flag("--no-adv", "drop the adversarial loss");
        var noDistill = Opt.Flag("--no-distill", "drop the distillation loss");
        var weighting = Opt.Choice("--weighting", "distillation weighting c(t): exp (alpha-bar_t) or sds", "weighting", DistillWeighting.Exp, Opt.EnumChoices<DistillWeighting>());
        var init = Opt.Choice("--init", "student initialisation", "init", Init.Teacher, Opt.EnumChoices<Init>());
        var lambda = Opt.Number("--lambda", "weight of the distillation loss, at least 0", 2.5, 0, double.PositiveInfinity);
        var teacherGuidance = Opt.Number("--teacher-guidance", "guidance of the teacher's target, 0 to 30 (0 = off)", 0, 0, 30, helpName: "G");
        var space = Opt.Choice("--distill-space", "where the distillation loss compares", "space", Space.Latent, Opt.EnumChoices<Space>());
        var r1 = Opt.Number("--r1", "R1 penalty gamma on real features, at least 0", 1e-5, 0, double.PositiveInfinity);
        var ema = Opt.OptionalNumber("--ema", "EMA decay of the exported student, 0 to 1 (default: the preset's)", 0, 1, helpName: "DECAY");
        var command = new Command("add", "Distill the teacher into a 1-4 step student with Adversarial Diffusion Distillation.");
        train.AddTo(command);
        var laddNoise = Opt.Number("--ladd-noise", "with --disc-features teacher: location m of the re-noising level t̂ = 999·sigmoid(m + n), n ~ N(0, 1), -4 to 4 (1: biased to high noise, LADD §3)",
            1, -4, 4, helpName: "M");
        foreach (var o in new Option[] { teacher, features, discFeatures, laddNoise, output, noAdv, noDistill, weighting, init, lambda, teacherGuidance, space, r1, ema }) command.Add(o);
        command.SetAction(p =>
        {
            var (options, cache) = train.Read(p);
            var root = RepoPaths.FindRoot() ?? ".";
            var teacherDir = p.GetValue(teacher) ?? Path.Combine(root, "models", "emoji-32-teacher");
            var featuresDir = p.GetValue(features) ?? Path.Combine(root, "models", "emoji-32-features");
            var outDir = p.GetValue(output) ?? options.DefaultExport("add-emoji-32");
            var settings = new AddSettings
            {
                Adversarial = !p.GetValue(noAdv),
                Distill = !p.GetValue(noDistill),
                Weighting = p.GetValue(weighting),
                Lambda = p.GetValue(lambda),
                TeacherGuidance = p.GetValue(teacherGuidance),
                PixelSpace = p.GetValue(space) == Space.Pixel,
                R1Gamma = p.GetValue(r1),
                DiscFeatures = p.GetValue(discFeatures),
                LaddLocation = p.GetValue(laddNoise),
            };
            bool vit = settings.DiscFeatures == DiscFeatures.Vit;
            if (!settings.Adversarial && !settings.Distill) throw new UsageException("--no-adv and --no-distill together leave no loss to train");
            if (!Directory.Exists(teacherDir)) throw new UsageException($"no teacher at {teacherDir}; run 'add-train teacher' first or pass --teacher DIR");
            if (vit && !Directory.Exists(featuresDir)) throw new UsageException($"no feature network at {featuresDir}; run 'add-train features' first or pass --features DIR");
            var teacherPipeline = ReferencePipeline.Load(teacherDir, Console.Error.WriteLine);
            var result = Train(options, settings, p.GetValue(init), TrainOptions.LoadData(cache), teacherPipeline, vit ? FeatureTrainer.Load(featuresDir) : null, outDir, Console.Error.WriteLine, p.GetValue(ema));
            Console.WriteLine(ResultJson.Serialize(result));
            return 0;
        });
        return command;
    }

    /// <param name="features">F; only <see cref="DiscFeatures.Vit"/> needs it (null otherwise)</param>
    /// <param name="emaDecay">overrides the preset's EMA decay (short ablation runs need a faster EMA: at 0.999 the
    /// average still holds 0.999^N of the initial weights after N steps)</param>
    public static Result Train(TrainOptions o, AddSettings settings, Init init, Emoji32 data, ReferencePipeline teacher, VisionTransformer? features, string exportDir, Action<string> log,
        double? emaDecay = null)
    {
        var s = For(o.Preset);
        if (emaDecay is double decay) s = s with { EmaDecay = decay };
        int steps = o.Steps ?? s.Steps, batch = o.Batch ?? s.Batch;
        torch.manual_seed(o.Seed);
        var student = new UNet2DConditionModel(teacher.Unet.Config);
        if (init == Init.Teacher) Ema.Copy(student, teacher.Unet);
        var ema = new UNet2DConditionModel(teacher.Unet.Config);
        Ema.Copy(ema, student);
        Discriminator heads;
        if (settings.DiscFeatures == DiscFeatures.Vit)
        {
            if (features is null) throw new ArgumentException("--disc-features vit needs the feature network", nameof(features));
            int conditionDim = teacher.TextEncoder.Config.HiddenSize + features.Config.HiddenSize;
            heads = new Discriminator(features.Config.NumHiddenLayers + 1, features.Config.HiddenSize, conditionDim);
        }
        else heads = new Discriminator(teacher.Unet.FeatureChannels, teacher.TextEncoder.Config.HiddenSize + AddStep.NoiseEmbeddingDim);
        var step0 = new AddStep
        {
            Student = student, Teacher = teacher.Unet, TextEncoder = teacher.TextEncoder, Vae = teacher.Vae,
            Features = settings.DiscFeatures == DiscFeatures.Vit ? features : null, Heads = heads,
            StudentOptimizer = optim.AdamW(student.parameters(), lr: s.StudentLr, beta1: 0.0, beta2: 0.99, weight_decay: 0.0),
            HeadsOptimizer = optim.AdamW(heads.parameters(), lr: s.HeadsLr, beta1: 0.0, beta2: 0.99, weight_decay: 0.0),
            Schedule = teacher.Schedule,
            Settings = settings,
        };
        step0.Freeze();

        var train = data.Indices(test: false).ToArray();
        using var pixels = ImageTensors.ToTensor(data, train);
        using var latents = new LatentBank(teacher.Vae, data, train);
        using var ids = tensor(train.SelectMany(i => teacher.Tokenizer.Encode(data.Items[i].Caption).Select(t => (long)t)).ToArray(), [train.Length, teacher.Tokenizer.MaxLength]);

        string[] columns = ["adv_g", "adv_d", "distill", "r1", "d_real", "d_fake"];
        using var session = new TrainingSession(o.RunDir, steps, columns,
            [("student", student), ("ema_student", ema), ("heads", heads)], [step0.StudentOptimizer, step0.HeadsOptimizer], o.Resume, o.CheckpointEvery,
            settings: settings.ResumeKeys());
        log($"add: student {StateDict.ParameterCount(student):N0} parameters (init {init.ToString().ToLowerInvariant()}), heads {StateDict.ParameterCount(heads):N0}, " +
            $"adv {settings.Adversarial}, distill {settings.Distill} ({settings.Weighting.ToString().ToLowerInvariant()}, λ {settings.Lambda}, teacher guidance {settings.TeacherGuidance}), disc features {settings.DiscFeatures.ToString().ToLowerInvariant()}, batch {batch}, {steps} steps");
        var captions = TeacherTrainer.FixedCaptions(data, 8);

        int step = session.StartStep;
        var metrics = new Dictionary<string, double>();
        while (step < steps && !session.StopRequested)
        {
            using var scope = NewDisposeScope();
            var (rng, gen) = TrainingSession.StepRandom(o.Seed, step);
            var idx = tensor(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(train.Length)).ToArray());
            var z0 = latents.Sample(idx, gen);
            var lr = TrainingSession.CosineLr(step, steps, s.StudentLr, warmup: Math.Min(200, steps / 10 + 1), floor: 0.5);
            TrainingSession.SetLearningRate(step0.StudentOptimizer, lr);
            metrics = step0.Run(new AddStep.Batch(pixels.index_select(0, idx), z0, ids.index_select(0, idx)), rng, gen);
            Ema.Update(ema, student, s.EmaDecay);
            step++;
            session.Report(step, metrics, logEvery: 5);
            if (session.CheckpointDue)
            {
                session.SaveCheckpoint(step);
                WriteSamples(StudentPipeline(teacher, ema, settings), captions, o.RunDir, step);
            }
            if (step == o.StopAfter) session.RequestStop();
        }
        session.Finish(step, metrics);
        var pipeline = StudentPipeline(teacher, ema, settings);
        WriteSamples(pipeline, captions, o.RunDir, step);
        if (step < steps) { log($"stopped at step {step}; continue with --resume"); return new Result("", metrics, session.Seconds, step); }
        pipeline.Save(exportDir, "AddStudentPipeline");
        log($"add: {session.Seconds / 60:F1} min; exported {exportDir}");
        var result = new Result(exportDir, metrics, session.Seconds, step);
        File.WriteAllText(Path.Combine(o.RunDir, "result.json"), ResultJson.Serialize(result));
        return result;
    }

    /// <summary>The student as a pipeline: its UNet with the teacher's text encoder, VAE, tokenizer; the teacher's
    /// scheduler config defaulting to 1 step of the re-noising sampler without guidance (our keys add_sampler,
    /// add_default_steps, add_default_guidance), at most as many steps as training timesteps (add_max_steps). Its
    /// trailing spacing runs the training timesteps 999 / 999, 499 / 999, 749, 499, 249 at 1 / 2 / 4 steps.</summary>
    public static ReferencePipeline StudentPipeline(ReferencePipeline teacher, UNet2DConditionModel student, AddSettings settings)
    {
        var p = new ReferencePipeline
        {
            Tokenizer = teacher.Tokenizer, TextEncoder = teacher.TextEncoder, Unet = student, Vae = teacher.Vae,
            Scheduler = teacher.Scheduler with
            {
                AddSampler = SamplerNames.Name(SamplerKind.StudentRenoise), AddDefaultSteps = 1, AddDefaultGuidance = 0,
                AddMaxSteps = settings.StudentTimesteps.Length,
            },
        };
        p.Eval();
        return p;
    }

    /// <summary>Student samples at 1, 2 and 4 steps (rows) for the fixed captions.</summary>
    public static void WriteSamples(ReferencePipeline p, List<string> captions, string runDir, int step)
    {
        var cells = new List<(RgbImage, string)>();
        foreach (var n in new[] { 1, 2, 4 })
        {
            var images = p.Generate(captions, SamplerKind.StudentRenoise, n, guidance: 0, seed: 1);
            cells.AddRange(images.Zip(captions, (im, c) => (im, $"{n} step: {c}")));
        }
        Png.Save(CaptionedGrid.Render(cells, columns: captions.Count, scale: 2), Path.Combine(runDir, "samples", $"step-{step:D6}.png"));
    }
}
