using Add.CommandLine;

namespace Add.Tests;

/// <summary>Paths of the committed test fixtures.</summary>
public static class Fixtures
{
    public static string Root => RepoPaths.FindRoot() ?? throw new InvalidOperationException("tests must run inside the repository checkout");
    public static string EmojiMini => Path.Combine(Root, "tests", "fixtures", "emoji-mini");
}
