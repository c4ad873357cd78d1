using Add.Engine;
using Add.Engine.CommandLine;

namespace Add.Train.Training;

/// <summary>
/// `add-train card teacher|student`: writes a model folder's card (README.md, samples/, training/) with
/// <see cref="TeacherCard"/> or <see cref="StudentCard"/>.
/// </summary>
public static class CardCommand
{
    public const string Usage = "add-train card teacher [--model DIR] [--vae-run DIR] [--teacher-run DIR] [--guidance 4] [--cache DIR]\n" +
        "add-train card student [--model DIR] [--teacher DIR] [--run DIR] [--guidance 4] [--cache DIR]\n    Measure and write a model card.";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] is not ("teacher" or "student")) throw new UsageException("card: expected 'teacher' or 'student'");
        var a = new ArgReader(args.Skip(1));
        var root = RepoPaths.FindRoot() ?? ".";
        if (args[0] == "student")
        {
            var studentDir = a.String("model") ?? Path.Combine(root, "models", "add-emoji-32");
            var teacherDir = a.String("teacher") ?? Path.Combine(root, "models", "emoji-32-teacher");
            var addRun = a.String("run") ?? Path.Combine(root, "runs", "add");
            double g = a.Double("guidance", 4, 1, 30);
            var c = a.String("cache");
            a.ThrowIfUnused(0);
            StudentCard.Write(studentDir, teacherDir, addRun, g, TrainOptions.LoadData(c), Console.Error.WriteLine);
            return 0;
        }
        var model = a.String("model") ?? Path.Combine(root, "models", "emoji-32-teacher");
        var vaeRun = a.String("vae-run") ?? Path.Combine(root, "runs", "vae");
        var teacherRun = a.String("teacher-run") ?? Path.Combine(root, "runs", "teacher");
        double guidance = a.Double("guidance", 4, 1, 30);
        var cache = a.String("cache");
        a.ThrowIfUnused(0);
        TeacherCard.Write(model, vaeRun, teacherRun, guidance, TrainOptions.LoadData(cache), Console.Error.WriteLine);
        return 0;
    }
}
