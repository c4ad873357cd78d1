namespace Add.CommandLine;

/// <summary>Locates the repository checkout (the folder holding Add.sln) for defaults such as the shipped model and the cache.</summary>
public static class RepoPaths
{
    /// <summary>The nearest folder holding Add.sln above the current directory or the running binary; null outside a checkout.</summary>
    public static string? FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Add.sln"))) return dir.FullName;
        }
        return null;
    }

    /// <summary>Cache folder: $ADD_CACHE, else &lt;repo&gt;/.cache (git-ignored), else ./.cache.</summary>
    public static string Cache()
        => Environment.GetEnvironmentVariable("ADD_CACHE") is { Length: > 0 } env ? env
           : Path.Combine(FindRoot() ?? Directory.GetCurrentDirectory(), ".cache");
}
