using System.CommandLine;
using Add.CommandLine;
using Add.Engine.Pipeline;
using Add.Engine.Text;

namespace Add.Cli;

/// <summary>`add tokenize [--model DIR] PROMPT`: the padded input ids the text encoder receives, on one line.</summary>
public static class TokenizeCommand
{
    /// <summary>The `tokenize` command.</summary>
    public static Command Create()
    {
        var prompt = new Argument<string>("PROMPT") { Description = "the prompt to tokenize; quote a prompt of several words" };
        var model = CommonOptions.Model("model folder whose tokenizer/ is used (default: $ADD_MODEL, else models/add-emoji-32 of this checkout); only tokenizer/ is read");
        var command = new Command("tokenize", "Print the input ids the text encoder receives for PROMPT (all model_max_length of them, padded), space-separated; warnings (truncated prompt, unknown words) on stderr.")
        {
            prompt, model,
        };
        command.SetAction(p => Run(p.GetValue(prompt)!, p.GetValue(model), p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string prompt, string? model, TextWriter output, TextWriter log)
    {
        var folder = ModelLocator.Resolve(model);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder}");
        var tokenizer = TextTokenizer.Load(PipelineLayout.Tokenizer.Folder(folder));
        var ids = tokenizer.Encode(prompt, w => log.WriteLine($"add: warning: {w}"));
        output.WriteLine(string.Join(' ', ids));
        return 0;
    }
}
