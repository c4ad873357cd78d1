namespace Add.CommandLine;

/// <summary>Where the model comes from when no --model is given: $ADD_MODEL, else the shipped default
/// <c>models/add-emoji-32</c> of the checkout the command runs in.</summary>
public static class ModelLocator
{
    /// <summary>The shipped student's folder name under models/.</summary>
    public const string DefaultModelName = "add-emoji-32";

    /// <summary><paramref name="explicitFolder"/> when given, else $ADD_MODEL, else models/add-emoji-32 of the checkout.</summary>
    /// <exception cref="DirectoryNotFoundException">nothing given and no checkout around.</exception>
    public static string Resolve(string? explicitFolder)
    {
        if (!string.IsNullOrEmpty(explicitFolder)) return explicitFolder;
        if (Environment.GetEnvironmentVariable("ADD_MODEL") is { Length: > 0 } env) return env;
        var root = RepoPaths.FindRoot();
        if (root is not null) return Path.Combine(root, "models", DefaultModelName);
        throw new DirectoryNotFoundException($"no model given and no checkout with models/{DefaultModelName} around; pass --model DIR or set ADD_MODEL");
    }
}
