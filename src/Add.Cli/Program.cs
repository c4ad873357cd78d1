using System.CommandLine;
using Add.CommandLine;
using Add.Cli.Serve;
using Add.Engine.SafeTensors;

namespace Add.Cli;

/// <summary>`add`: the engine's command-line front door.</summary>
public static class Program
{
    /// <summary>The `add` command tree.</summary>
    public static RootCommand Create() => new("add: text to image with an Adversarial Diffusion Distillation student, on our own kernels.")
    {
        GenerateCommand.Create(), ProfileCommand.Create(), InfoCommand.Create(),
        TokenizeCommand.Create(), ServeCommand.Create(),
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command; bad input gives exit code 2 and one line on <paramref name="error"/>, never a stack trace.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
        => CommandLineApp.Run("add", Create(), args, output, error, e => IsBadInput(e) ? 2 : null, ExplainPrompt);

    /// <summary>Errors caused by what the user passed (arguments, model folders, weights, images): one line, exit 2.</summary>
    public static bool IsBadInput(Exception e) => e is UsageException or ArgumentException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or SafeTensorsFormatException or UnauthorizedAccessException
        or NotSupportedException;

    /// <summary>`add generate grinning face`: the second word is the usual mistake, so say to quote the prompt.</summary>
    static string ExplainPrompt(ParseResult result, string message)
        => result.CommandResult.Command.Arguments.Any(a => a.Name == "PROMPT") && result.UnmatchedTokens.Count > 0
           && result.UnmatchedTokens.All(t => !t.StartsWith('-'))
            ? $"expected one PROMPT, got more words ({string.Join(' ', result.UnmatchedTokens)}): quote it, as in add {result.CommandResult.Command.Name} \"grinning face\""
            : message;
}
