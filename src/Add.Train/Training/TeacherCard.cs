using System.Globalization;
using System.Text;
using System.Text.Json;
using Add.Engine.Imaging;
using Add.Engine.Sampling;
using Add.Train.Imaging;
using Add.Train.Model;
using Add.Train.Pipeline;
using static TorchSharp.torch;

namespace Add.Train.Training;

/// <summary>
/// The teacher's model card, README.md in the model folder (`add-train card teacher`, <see cref="CardCommand"/>): data,
/// sizes (parameters, FLOPs per forward), training wall times, VAE test PSNR, sample grids (DDIM 50 steps with
/// guidance next to 1, 2 and 4 steps for 16 fixed test captions), and copies the training logs and loss curves.
/// </summary>
public static class TeacherCard
{
    public static void Write(string modelDir, string vaeRun, string teacherRun, double guidance, Data.Emoji32 data, Action<string> log)
    {
        var p = ReferencePipeline.Load(modelDir, log);
        var test = data.Indices(test: true).ToArray();
        double psnr = VaeTrainer.TestPsnr(p.Vae, data, test);
        log($"VAE test PSNR {psnr:F2} dB over {test.Length} images");

        long unetFlops = FlopCounter.Count(p.Unet, () => p.Unet.forward(randn(1, 4, p.Unet.Config.DefaultSampleSize, p.Unet.Config.DefaultSampleSize), tensor(new long[] { 500 }), randn(1, p.Tokenizer.MaxLength, p.TextEncoder.Config.HiddenSize)));
        long textFlops = FlopCounter.Count(p.TextEncoder, () => p.TextEncoder.forward(p.Tokenize(["grinning face"])));
        long decFlops = FlopCounter.Count(p.Vae, () => p.Vae.Decode(randn(1, 4, p.Unet.Config.DefaultSampleSize, p.Unet.Config.DefaultSampleSize)));
        long encFlops = FlopCounter.Count(p.Vae, () => p.Vae.Encode(randn(1, 3, 32, 32)));

        var captions = TeacherTrainer.FixedCaptions(data, 16);
        var samplesDir = Path.Combine(modelDir, "samples");
        var rows = new List<(string Name, string File, double Seconds)>();
        foreach (var steps in new[] { 50, 1, 2, 4 })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var images = p.Generate(captions, SamplerKind.Ddim, steps, guidance, seed: 1);
            double perImage = watch.Elapsed.TotalSeconds / captions.Count;
            var file = $"ddim-{steps}-steps.png";
            Png.Save(CaptionedGrid.Render(images.Zip(captions).ToList(), columns: 8, scale: 2), Path.Combine(samplesDir, file));
            rows.Add(($"DDIM {steps} step{(steps > 1 ? "s" : "")}, guidance {guidance}", file, perImage));
        }

        var trainingDir = Path.Combine(modelDir, "training");
        var vaeResult = CopyRun(vaeRun, Path.Combine(trainingDir, "vae"));
        var teacherResult = CopyRun(teacherRun, Path.Combine(trainingDir, "teacher"));

        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# emoji-32-teacher");
        sb.AppendLine();
        sb.AppendLine("A small text-to-image latent diffusion model (the ADD *teacher*) trained from scratch on emoji-32 by this repository's");
        sb.AppendLine("TorchSharp reference (`add-train vae`, then `add-train teacher`). Diffusers layout: `model_index.json`, `scheduler/`,");
        sb.AppendLine("`tokenizer/`, `text_encoder/`, `unet/`, `vae/`; weights are safetensors under diffusers' state-dict keys. ε-prediction,");
        sb.AppendLine("scaled_linear schedule (β 0.00085 → 0.012, 1000 steps); sample with DDIM/Euler and classifier-free guidance.");
        sb.AppendLine();
        sb.AppendLine("## Data");
        sb.AppendLine();
        sb.AppendLine($"emoji-32: {data.Count:N0} images of 32×32 (Noto Emoji and Twemoji from `emoji-datasource-google/twitter@16.0.0`), captions such as");
        sb.AppendLine($"\"{captions[0]}\"; {data.Indices(false).Count():N0} train / {test.Length:N0} test. Images: Noto Emoji © Google, Apache-2.0; Twemoji © Twitter, Inc and");
        sb.AppendLine("other contributors, CC-BY 4.0 (see `data/ATTRIBUTION.md` in the repository). The weights are derived from these images.");
        sb.AppendLine();
        sb.AppendLine("## Sizes");
        sb.AppendLine();
        sb.AppendLine("| part | config | parameters | GFLOP per forward (batch 1) |");
        sb.AppendLine("|---|---|---:|---:|");
        sb.AppendLine(inv, $"| VAE encoder+decoder | block_out_channels [{string.Join(", ", p.Vae.Config.BlockOutChannels)}], latents {p.Vae.Config.LatentChannels}×{p.Vae.Config.LatentSize}×{p.Vae.Config.LatentSize}, scaling_factor {p.Vae.Config.ScalingFactor:F4} | {StateDict.ParameterCount(p.Vae):N0} | enc {encFlops / 1e9:F3}, dec {decFlops / 1e9:F3} |");
        sb.AppendLine(inv, $"| text encoder | hidden {p.TextEncoder.Config.HiddenSize}, {p.TextEncoder.Config.NumHiddenLayers} layers, {p.TextEncoder.Config.NumAttentionHeads} heads, vocabulary {p.Tokenizer.VocabSize}, {p.Tokenizer.MaxLength} positions | {StateDict.ParameterCount(p.TextEncoder):N0} | {textFlops / 1e9:F4} |");
        sb.AppendLine(inv, $"| UNet | block_out_channels [{string.Join(", ", p.Unet.Config.BlockOutChannels)}], layers_per_block {p.Unet.Config.LayersPerBlock}, {p.Unet.Config.AttentionHeadDim} heads, cross_attention_dim {p.Unet.Config.CrossAttentionDim} | {StateDict.ParameterCount(p.Unet):N0} | {unetFlops / 1e9:F3} |");
        sb.AppendLine();
        sb.AppendLine("FLOPs count convolutions and linear layers (2 per multiply-add); the attention products softmax(QKᵀ)V at ≤ 64 positions are left out (a few percent).");
        sb.AppendLine();
        sb.AppendLine("## Training (this 2-core machine, TorchSharp CPU)");
        sb.AppendLine();
        sb.AppendLine("| run | steps | batch | wall time | final metric |");
        sb.AppendLine("|---|---:|---:|---:|---|");
        sb.AppendLine(inv, $"| `add-train vae` | {Num(vaeResult, "Step")} | 32 | {Num(vaeResult, "Seconds") / 60:F1} min | test PSNR {psnr:F2} dB |");
        sb.AppendLine(inv, $"| `add-train teacher` | {Num(teacherResult, "Step")} | 64 | {Num(teacherResult, "Seconds") / 60:F1} min | smoothed ε-MSE {Num(teacherResult, "FinalLoss"):F4} |");
        sb.AppendLine();
        sb.AppendLine("Logs and loss curves: `training/vae/` and `training/teacher/` (log.csv, loss.png). AdamW with warmup and cosine decay; the");
        sb.AppendLine("teacher's text encoder and UNet train jointly, captions dropped to \"\" 10% of the time; exported weights are the EMA (0.999).");
        sb.AppendLine();
        sb.AppendLine("## Metrics");
        sb.AppendLine();
        sb.AppendLine(inv, $"- VAE reconstruction PSNR on the test split ({test.Length} images, 8-bit, posterior mean): **{psnr:F2} dB**.");
        sb.AppendLine();
        sb.AppendLine("## Samples (16 fixed test captions, seed 1, TorchSharp reference)");
        sb.AppendLine();
        sb.AppendLine("| sampler | seconds per image (batch 16, CPU) |");
        sb.AppendLine("|---|---:|");
        foreach (var r in rows) sb.AppendLine(inv, $"| {r.Name} | {r.Seconds:F3} |");
        sb.AppendLine();
        foreach (var r in rows) { sb.AppendLine($"**{r.Name}**"); sb.AppendLine(); sb.AppendLine($"![{r.Name}](samples/{r.File})"); sb.AppendLine(); }
        sb.AppendLine("A teacher needs many steps: at 1-4 steps it gives blurry averages. That gap is what ADD distillation closes.");
        sb.AppendLine();
        sb.AppendLine("Reproduce: `add-train data prepare && add-train vae && add-train teacher && add-train card teacher`.");
        File.WriteAllText(Path.Combine(modelDir, "README.md"), sb.ToString());
        log($"wrote {Path.Combine(modelDir, "README.md")}");
    }

    /// <summary>Copies a run's log.csv, loss.png and result.json into <paramref name="target"/>; returns result.json.</summary>
    internal static JsonElement? CopyRun(string runDir, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var f in new[] { "log.csv", "loss.png", "result.json" })
            if (File.Exists(Path.Combine(runDir, f))) File.Copy(Path.Combine(runDir, f), Path.Combine(target, f), overwrite: true);
        var result = Path.Combine(runDir, "result.json");
        return File.Exists(result) ? JsonDocument.Parse(File.ReadAllText(result)).RootElement.Clone() : null;
    }

    static double Num(JsonElement? e, string key) => e is { } v && v.TryGetProperty(key, out var x) && x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN;
}
