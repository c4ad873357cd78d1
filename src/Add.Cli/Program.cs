using Add.Engine.CommandLine;

namespace Add.Cli;

/// <summary>`add`: the engine's command-line front door.</summary>
public static class Program
{
    const string Usage = """
        usage: add <command> ...

        commands:
          info PATH    tensors, dtypes, shapes and parameter counts of a safetensors file
        """;

    public static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            return args[0] switch
            {
                "info" => InfoCommand.Run(args[1..], Console.Out),
                _ => throw new UsageException($"unknown command '{args[0]}' (try add --help)"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"add: {e.Message}");
            return 2;
        }
    }
}
