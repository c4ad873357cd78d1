using Add.Engine.Backends;
using Add.Engine.Pipeline;
using Add.Engine.Sampling;
using Add.Train.Evaluation;
using Add.Train.Pipeline;
using Add.Train.Training;
using static TorchSharp.torch;

namespace Add.Perf;

/// <summary>The tiny decoder both sides decode with in the "tiny decoder" rows: the engine's request takes
/// <see cref="DecoderKind.Tiny"/>, libtorch's the reference <c>DecoderTiny</c> (<see cref="EvalDecoder"/>, as `add-train eval
/// --decoder` and `validate --decoder` load it) on the same weights.</summary>
/// <param name="Source">"tiny" (the student's vae_tiny) or the AutoencoderTiny folder given with --decoder</param>
public sealed record TinyDecoderSides(string Source, EvalDecoder Torch, EvalDecoder TorchFull);

/// <summary>
/// The 1-step student generation decoded by the full VAE and by the tiny decoder (issue #16: "engine time per image of a
/// 1-step generation with each decoder at batch 1 and 16", in one run). `add-perf e2e` adds the tiny-decoder rows next to
/// its own full-decoder rows; `add-perf e2e --only-decoders` (<see cref="Run"/>) times just these four rows, full and tiny
/// at batch 1 and 16, in about a minute. Both sides generate the whole image (tokenize, text encoder, one UNet step,
/// decode, RGB); only the decoder differs between a full row and its tiny row.
/// </summary>
public static class E2eDecoders
{
    /// <summary>The tiny decoder to time: <paramref name="decoder"/> (an AutoencoderTiny folder, --decoder) when given, else
    /// "tiny" when the student's model_index.json declares a vae_tiny, else null (no tiny rows).</summary>
    public static string? TinyChoice(string student, string? decoder) =>
        decoder ?? (ModelIndex.Load(student).Declares(PipelineLayout.VaeTiny.Name) ? EvalDecoder.Tiny : null);

    /// <summary>Loads the tiny decoder <paramref name="choice"/> on both sides: a folder replaces the engine's vae_tiny
    /// (<see cref="DiffusionPipeline.LoadTinyDecoder"/>); the reference gets an <see cref="EvalDecoder"/> of the same files
    /// (a folder that is not an AutoencoderTiny for this model: InvalidDataException / UsageException).</summary>
    public static TinyDecoderSides Prepare(DiffusionPipeline engine, ReferencePipeline reference, string student, string choice)
    {
        if (choice != EvalDecoder.Tiny)
            engine.LoadTinyDecoder(choice, Console.Error.WriteLine);
        if (engine.TinyDecoder is null)
            throw new InvalidOperationException($"{student}: the engine loaded no tiny decoder");
        return new TinyDecoderSides(choice, EvalDecoder.Load(reference, student, choice, Console.Error.WriteLine),
            EvalDecoder.Load(reference, student, EvalDecoder.Full));
    }

    /// <summary>Row name of a 1-step generation of <paramref name="batch"/> prompts with the full or the tiny decoder.</summary>
    public static string RowName(int batch, bool tiny) => $"student 1 step, batch {batch} ({(tiny ? "tiny" : "full")} decoder)";

    static string Measure(int batch) => batch == 1 ? "latency per image" : $"time per batch ({batch} / throughput)";

    /// <summary>Times the 1-step generation of <paramref name="prompts"/> with the tiny decoder, engine against libtorch.</summary>
    public static void TimeRow(E2eRowTimer row, DiffusionPipeline engine, ReferencePipeline reference, TinyDecoderSides tiny, List<string> prompts, int repeats) =>
        row.Time(RowName(prompts.Count, tiny: true), Measure(prompts.Count),
            () => engine.Generate(new GenerationRequest { Prompts = prompts, Steps = 1, Decoder = DecoderKind.Tiny }),
            () => TorchGenerate(reference, tiny.Torch, prompts), repeats);

    /// <summary>The reference's 1-step student generation (as <see cref="ReferencePipeline.Generate"/>, seed 1) decoded by
    /// <paramref name="decoder"/>: noise (N, 4, s, s) → one StudentRenoise step → decoder → RGB.</summary>
    static List<Add.Engine.Imaging.RgbImage> TorchGenerate(ReferencePipeline reference, EvalDecoder decoder, List<string> prompts)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(1);
        int s = reference.Unet.Config.DefaultSampleSize;
        var noise = randn([prompts.Count, reference.Unet.Config.InChannels, s, s], generator: gen);
        var latents = reference.SampleLatents(prompts, SamplerKind.StudentRenoise, 1, 0, noise, () => randn(noise.shape, generator: gen));
        return ImageTensors.ToImages(decoder.Decode(latents));
    }

    /// <summary>`add-perf e2e --only-decoders`: loads the student once per side, then times, at batch 1 and 16, the 1-step
    /// generation with the full decoder and with the tiny one, alternating engine and libtorch, median of
    /// <paramref name="repeats"/>. The full rows' libtorch side goes through the same <see cref="TorchGenerate"/> as the
    /// tiny rows' (the VAE as an <see cref="EvalDecoder"/>), so each pair differs only in its decoder.</summary>
    public static (List<BenchResult> Rows, string Notes) Run(string student, string tinyChoice, int repeats, int quietMs, TextWriter log)
    {
        var results = new List<BenchResult>();
        var row = new E2eRowTimer(results, quietMs, log);
        using var engine = DiffusionPipeline.Load(student, new CpuBackend());
        var reference = ReferencePipeline.Load(student);
        var tiny = Prepare(engine, reference, student, tinyChoice);
        var batch1 = new List<string> { "grinning face" };
        var batch16 = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? "grinning face" : "red heart").ToList();
        foreach (var prompts in new[] { batch1, batch16 })
        {
            row.Time(RowName(prompts.Count, tiny: false), Measure(prompts.Count),
                () => engine.Generate(new GenerationRequest { Prompts = prompts, Steps = 1 }),
                () => TorchGenerate(reference, tiny.TorchFull, prompts), repeats);
            TimeRow(row, engine, reference, tiny, prompts, repeats);
        }
        var full1 = results[0].OursMs / results[1].OursMs;
        var full16 = results[2].OursMs / results[3].OursMs;
        string notes = $"{Describe(tiny, student)} Engine full / tiny: {full1:F2}× at batch 1, {full16:F2}× at batch 16.";
        log.WriteLine(notes);
        return (results, notes);
    }

    /// <summary>One sentence naming the tiny decoder's files, for the report's notes.</summary>
    public static string Describe(TinyDecoderSides tiny, string student) =>
        tiny.Source == EvalDecoder.Tiny
            ? $"Tiny decoder: {Path.Combine(student, PipelineLayout.VaeTiny.Name)} (the student's vae_tiny)."
            : $"Tiny decoder: the AutoencoderTiny in {tiny.Source} (--decoder).";
}
