using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Add.CommandLine;

/// <summary>
/// Runs a tool's <see cref="RootCommand"/> the way both executables behave: `--help` on any command prints its
/// options and exits 0; a parse error prints one line naming the problem and exits 2; an exception the tool maps to
/// an exit code prints its message as one line (no stack trace); Ctrl-C that cancels a generation exits 130.
/// </summary>
public static class CommandLineApp
{
    /// <param name="tool">The executable's name, used in messages ("add").</param>
    /// <param name="exitCode">The exit code for an exception caused by the user's input, or null to let it propagate.</param>
    /// <param name="explain">Optionally rewrites a parse error's message (given the parse result).</param>
    public static int Run(string tool, RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error,
        Func<Exception, int?> exitCode, Func<ParseResult, string, string>? explain = null)
    {
        var invocation = new InvocationConfiguration
        {
            Output = output, Error = error, EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,   // commands handle Ctrl-C themselves (training finishes its step)
        };
        // Arguments are taken literally: no @response-file expansion (a prompt or path may start with '@').
        var parsing = new ParserConfiguration { ResponseFileTokenReplacer = null };
        if (args.Count == 0)
        {
            root.Parse(["--help"], parsing).Invoke(invocation);
            return 2;
        }
        if (args is ["help"]) args = ["--help"];   // `add help` as well as `add --help`
        var result = root.Parse(args, parsing);
        if (result.Errors.Count > 0 && result.Action is not HelpAction)
        {
            var message = OneLine(result.Errors[0].Message);
            if (explain is not null) message = explain(result, message);
            error.WriteLine($"{tool}: {message} (see '{CommandPath(tool, result.CommandResult)} --help')");
            return 2;
        }
        try
        {
            return result.Invoke(invocation);
        }
        catch (OperationCanceledException)
        {
            error.WriteLine($"{tool}: cancelled");
            return 130;
        }
        catch (Exception e) when (exitCode(e) is int code)
        {
            error.WriteLine($"{tool}: {OneLine(e.Message)}");
            return code;
        }
    }

    /// <summary>"add generate": the tool and the subcommands that lead to <paramref name="command"/>.</summary>
    public static string CommandPath(string tool, CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r is CommandResult c && c.Parent is not null; r = r.Parent) names.Add(c.Command.Name);
        names.Add(tool);
        names.Reverse();
        return string.Join(' ', names);
    }

    static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
