using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;
using Add.Train.Data;
using Add.Train.Evaluation;
using Add.Train.Training;
using Add.Train.Validation;

namespace Add.Train;

/// <summary>`add-train`: the TorchSharp reference implementation's front door.</summary>
public static class Program
{
    /// <summary>The `add-train` command tree.</summary>
    public static RootCommand Create() => new("add-train: the TorchSharp reference: data preparation, training, export, evaluation and engine validation.")
    {
        DataCommand.Create(), VaeTrainer.Create(), TinyDecoderTrainer.Create(), TeacherTrainer.Create(), CardCommand.Create(), FeatureTrainer.Create(),
        AddTrainer.Create(), EvaluatorTrainer.Create(), EvalCommand.Create(), ValidateCommand.Create(), ReproduceCommand.Create(),
        ClipVocabCommand.Create(), Pipeline.RandomModel.Create(),
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command: bad arguments exit 2, failures reading data or writing results exit 1, each as one line.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
        => CommandLineApp.Run("add-train", Create(), args, output, error, ExitCode);

    /// <summary>0 for --resume on a finished run (nothing to do; the message says so); 2 for bad input (arguments, requests, a model or data file that is missing or malformed, a backend this
    /// machine lacks); 1 for other I/O failures; null (a crash with its stack trace) for anything else.</summary>
    public static int? ExitCode(Exception e) => e switch
    {
        RunFinishedException => 0,
        UsageException or InvalidRequestException or SafeTensorsFormatException or NotSupportedException
            or InvalidDataException or FileNotFoundException or DirectoryNotFoundException => 2,
        UnauthorizedAccessException or InvalidOperationException or IOException => 1,
        _ => null,
    };
}
