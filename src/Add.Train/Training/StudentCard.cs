using System.Globalization;
using System.Text;
using Add.Engine.Imaging;
using Add.Engine.Sampling;
using Add.Train.Data;
using Add.Train.Imaging;
using Add.Train.Pipeline;

namespace Add.Train.Training;

/// <summary>
/// The ADD student's model card (`add-train card student`, <see cref="CardCommand"/>) — a grid comparing, for 16 fixed test captions, the student
/// at 1, 2 and 4 steps against the teacher (DDIM with guidance) at 1, 4 and 50 steps, seconds per image, the run's
/// settings, wall time and final losses; copies the run's log and loss curve into the model folder.
/// </summary>
public static class StudentCard
{
    public static void Write(string studentDir, string teacherDir, string addRun, double guidance, Emoji32 data, Action<string> log)
    {
        var student = ReferencePipeline.Load(studentDir, log);
        var teacher = ReferencePipeline.Load(teacherDir, log);
        var captions = TeacherTrainer.FixedCaptions(data, 16);
        var rows = new List<(string Name, List<RgbImage> Images, double Seconds)>();
        foreach (var n in new[] { 1, 2, 4 })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var images = student.Generate(captions, SamplerKind.StudentRenoise, n, 0, seed: 1);
            rows.Add(($"student {n} step{(n > 1 ? "s" : "")}", images, watch.Elapsed.TotalSeconds / captions.Count));
        }
        foreach (var n in new[] { 1, 4, 50 })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var images = teacher.Generate(captions, SamplerKind.Ddim, n, guidance, seed: 1);
            rows.Add(($"teacher DDIM {n} step{(n > 1 ? "s" : "")}, guidance {guidance}", images, watch.Elapsed.TotalSeconds / captions.Count));
        }
        var cells = rows.SelectMany(r => r.Images.Zip(captions, (im, c) => (im, $"{r.Name}: {c}"))).ToList();
        var samples = Path.Combine(studentDir, "samples");
        Png.Save(CaptionedGrid.Render(cells, columns: captions.Count, scale: 2, captionLines: 6), Path.Combine(samples, "student-vs-teacher.png"));

        var result = TeacherCard.CopyRun(addRun, Path.Combine(studentDir, "training"));

        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# add-emoji-32");
        sb.AppendLine();
        sb.AppendLine("The default model of the engine: an ADD student (Sauer et al. 2023) distilled from `models/emoji-32-teacher` by");
        sb.AppendLine("`add-train add`, making a 32×32 emoji from a caption in 1 step (2-4 steps refine). Student UNet + the teacher's text encoder,");
        sb.AppendLine("VAE and tokenizer, diffusers layout; `scheduler/scheduler_config.json` is the teacher's DDIMScheduler (trailing spacing)");
        sb.AppendLine("plus `\"add_sampler\": \"student-renoise\"`, 1 default step, no guidance: its timesteps are 999 (1 step), 999, 499 (2),");
        sb.AppendLine($"999, 749, 499, 249 (4), the training timesteps [{string.Join(", ", new AddSettings().StudentTimesteps)}].");
        sb.AppendLine();
        sb.AppendLine("Data: emoji-32 (Noto Emoji © Google, Apache-2.0; Twemoji © Twitter, Inc and other contributors, CC-BY 4.0; see");
        sb.AppendLine("`data/ATTRIBUTION.md`). The weights are derived from these images.");
        sb.AppendLine();
        if (result is { } r)
        {
            sb.AppendLine("## Training");
            sb.AppendLine();
            sb.AppendLine(inv, $"{r.GetProperty("Step").GetInt32()} steps in {r.GetProperty("Seconds").GetDouble() / 60:F1} min on this 2-core machine (TorchSharp CPU). Final losses:");
            sb.AppendLine();
            foreach (var m in r.GetProperty("FinalMetrics").EnumerateObject()) sb.AppendLine(inv, $"- {m.Name}: {m.Value.GetDouble():G4}");
            sb.AppendLine();
            sb.AppendLine("Log and loss curve: `training/log.csv`, `training/loss.png`.");
            sb.AppendLine();
        }
        sb.AppendLine("## Student vs teacher (16 fixed test captions, seed 1, TorchSharp reference)");
        sb.AppendLine();
        sb.AppendLine("| rows, top to bottom | seconds per image (batch 16, CPU) |");
        sb.AppendLine("|---|---:|");
        foreach (var row in rows) sb.AppendLine(inv, $"| {row.Name} | {row.Seconds:F3} |");
        sb.AppendLine();
        sb.AppendLine("![student vs teacher](samples/student-vs-teacher.png)");
        File.WriteAllText(Path.Combine(studentDir, "README.md"), sb.ToString());
        log($"wrote {Path.Combine(studentDir, "README.md")}");
    }
}
