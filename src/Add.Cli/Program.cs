using Add.Engine.CommandLine;
using Add.Engine.Pipeline;
using Add.Engine.SafeTensors;

namespace Add.Cli;

/// <summary>`add`: the engine's command-line front door.</summary>
public static class Program
{
    const string Usage = """
        usage: add <command> ...

        commands:
          generate PROMPT   an image from the shipped student (models/add-emoji-32) or --model DIR
          profile [PROMPT]  per-kernel times of one generation
          info PATH         a model folder's configs, or a safetensors file's tensors, dtypes, shapes, parameter counts

        """ + GenerateCommand.Usage + "\n" + ProfileCommand.Usage;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command; bad input gives exit code 2 and one line on <paramref name="error"/>, never a stack trace.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { output.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            return args[0] switch
            {
                "generate" => GenerateCommand.Run(args[1..], output, error),
                "profile" => ProfileCommand.Run(args[1..], output, error),
                "info" => InfoCommand.Run(args[1..], output),
                _ => throw new UsageException($"unknown command '{args[0]}' (try add --help)"),
            };
        }
        catch (Exception e) when (IsBadInput(e))
        {
            error.WriteLine($"add: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("add: cancelled");
            return 130;
        }
    }

    /// <summary>Errors caused by what the user passed (arguments, model folders, weights, images): one line, exit 2.</summary>
    public static bool IsBadInput(Exception e) => e is UsageException or InvalidRequestException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or SafeTensorsFormatException or UnauthorizedAccessException;
}
