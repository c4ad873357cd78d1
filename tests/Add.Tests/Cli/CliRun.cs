namespace Add.Tests.Cli;

/// <summary>Runs `add` or `add-train` in process and captures exit code, stdout and stderr.</summary>
public static class CliRun
{
    public static (int Code, string Out, string Err) Add(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = global::Add.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    public static (int Code, string Out, string Err) Train(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = global::Add.Train.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Exit code 2 and exactly one line on stderr holding <paramref name="expected"/>, no stack trace.</summary>
    public static string AssertBadInput((int Code, string Out, string Err) run, string expected)
    {
        Assert.True(run.Code == 2, $"exit {run.Code}; stderr: {run.Err}");
        Assert.Contains(expected, run.Err);
        Assert.Single(run.Err.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", run.Err);
        return run.Err;
    }
}
