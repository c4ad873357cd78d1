using System.CommandLine;
using Add.CommandLine;

namespace Add.Train.Training;

/// <summary>
/// `add-train card teacher|student`: writes a model folder's card (README.md, samples/, training/) with
/// <see cref="TeacherCard"/> or <see cref="StudentCard"/>.
/// </summary>
public static class CardCommand
{
    /// <summary>The `card` command: `card teacher` and `card student`.</summary>
    public static Command Create()
    {
        var teacherCard = new Command("teacher", "Measure and write the teacher's model card (README.md in the model folder).");
        var model = Opt.Text("--model", "the teacher (default: models/emoji-32-teacher)", "DIR");
        var vaeRun = Opt.Text("--vae-run", "the VAE's run folder, for its log and loss curve (default: runs/vae)", "DIR");
        var teacherRun = Opt.Text("--teacher-run", "the teacher's run folder (default: runs/teacher)", "DIR");
        var guidance = Guidance();
        var cache = CommonOptions.Cache();
        foreach (var o in new Option[] { model, vaeRun, teacherRun, guidance, cache }) teacherCard.Add(o);
        teacherCard.SetAction(p =>
        {
            var root = RepoPaths.FindRoot() ?? ".";
            TeacherCard.Write(p.GetValue(model) ?? Path.Combine(root, "models", "emoji-32-teacher"), p.GetValue(vaeRun) ?? Path.Combine(root, "runs", "vae"),
                p.GetValue(teacherRun) ?? Path.Combine(root, "runs", "teacher"), p.GetValue(guidance), TrainOptions.LoadData(p.GetValue(cache)), Console.Error.WriteLine);
            return 0;
        });

        var studentCard = new Command("student", "Measure and write the student's model card: student 1/2/4 steps vs teacher DDIM 1/4/50.");
        var student = Opt.Text("--model", "the student (default: models/add-emoji-32)", "DIR");
        var teacher = Opt.Text("--teacher", "the teacher (default: models/emoji-32-teacher)", "DIR");
        var addRun = Opt.Text("--run", "the ADD run folder (default: runs/add)", "DIR");
        var studentGuidance = Guidance();
        var studentCache = CommonOptions.Cache();
        foreach (var o in new Option[] { student, teacher, addRun, studentGuidance, studentCache }) studentCard.Add(o);
        studentCard.SetAction(p =>
        {
            var root = RepoPaths.FindRoot() ?? ".";
            StudentCard.Write(p.GetValue(student) ?? Path.Combine(root, "models", "add-emoji-32"), p.GetValue(teacher) ?? Path.Combine(root, "models", "emoji-32-teacher"),
                p.GetValue(addRun) ?? Path.Combine(root, "runs", "add"), p.GetValue(studentGuidance), TrainOptions.LoadData(p.GetValue(studentCache)), Console.Error.WriteLine);
            return 0;
        });
        return new Command("card", "Measure and write a model card.") { teacherCard, studentCard };
    }

    static Option<double> Guidance() => Opt.Number("--guidance", "the teacher's guidance in the sample grids, 1 to 30", 4, 1, 30, helpName: "G");
}
