using Add.Engine.CommandLine;
using Add.Train.Data;

namespace Add.Train;

/// <summary>`add-train`: the TorchSharp reference implementation's front door.</summary>
public static class Program
{
    const string Usage = "usage: add-train <command> ...\n\ncommands:\n" + DataCommand.Usage + "\n" + Training.VaeTrainer.Usage + "\n" + Training.TeacherTrainer.Usage + "\n" + Training.CardCommand.Usage + "\n" + Training.FeatureTrainer.Usage + "\n" + Training.AddTrainer.Usage + "\n" + Training.EvaluatorTrainer.Usage + "\n" + Evaluation.EvalCommand.Usage + "\n" + Validation.ValidateCommand.Usage + "\n" + Evaluation.ReproduceCommand.Usage;

    public static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            return args[0] switch
            {
                "data" => DataCommand.Run(args[1..]),
                "vae" => Training.VaeTrainer.Run(args[1..]),
                "teacher" => Training.TeacherTrainer.Run(args[1..]),
                "card" => Training.CardCommand.Run(args[1..]),
                "features" => Training.FeatureTrainer.Run(args[1..]),
                "add" => Training.AddTrainer.Run(args[1..]),
                "evaluator" => Training.EvaluatorTrainer.Run(args[1..]),
                "eval" => Evaluation.EvalCommand.Run(args[1..]),
                "validate" => Validation.ValidateCommand.Run(args[1..]),
                "reproduce" => Evaluation.ReproduceCommand.Run(args[1..]),
                _ => throw new UsageException($"unknown command '{args[0]}' (try add-train --help)"),
            };
        }
        catch (Exception e) when (e is UsageException or Engine.Pipeline.InvalidRequestException or Engine.SafeTensors.SafeTensorsFormatException)
        {
            Console.Error.WriteLine($"add-train: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"add-train: {e.Message}");
            return 1;
        }
    }
}
