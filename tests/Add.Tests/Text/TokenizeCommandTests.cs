using Add.Tests.Cli;

namespace Add.Tests.Text;

/// <summary>`add tokenize`: the padded ids on one line of stdout, warnings on stderr, bad folders exit 2.</summary>
public sealed class TokenizeCommandTests
{
    private static string SdTurbo => Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo");

    [Fact]
    public void PrintsThe77PaddedIdsOfAFolderWithOnlyATokenizer()
    {
        var (code, output, error) = CliRun.Add("tokenize", "--model", SdTurbo, "a photo of a cat");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal("49406 320 1125 539 320 2368 49407" + string.Concat(Enumerable.Repeat(" 0", 70)), output.TrimEnd('\n'));
    }

    [Fact]
    public void WarnsOnStderrWhenTruncated()
    {
        var (code, output, error) = CliRun.Add("tokenize", "--model", SdTurbo, string.Concat(Enumerable.Repeat("a red cube on a blue sphere, ", 10)));
        Assert.Equal(0, code);
        var ids = output.Trim().Split(' ').Select(int.Parse).ToArray();
        Assert.Equal(77, ids.Length);
        Assert.Equal(49407, ids[^1]);
        Assert.Equal("add: warning: prompt is 80 tokens, the text encoder takes 75: dropped the last 5 (\"on\", \"a\", \"blue\", \"sphere\", \",\")", error.Trim());
    }

    [Fact]
    public void WordTokenizerNamesUnknownWords()
    {
        var (code, output, error) = CliRun.Add("tokenize", "--model", Path.Combine(Fixtures.Root, "models", "add-emoji-32"), "grinning zzyzx face");
        Assert.Equal(0, code);
        Assert.Equal(16, output.Trim().Split(' ').Length);
        Assert.Equal("add: warning: 1 unknown word(s), encoded as <unk>: \"zzyzx\"", error.Trim());
    }

    [Fact]
    public void BadTokenizerFolderExits2WithOneLine()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "tokenizer"));
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer", "tokenizer_config.json"), """{"tokenizer_class": "T5Tokenizer"}""");
        CliRun.AssertBadInput(CliRun.Add("tokenize", "--model", dir.Path, "a cat"), "tokenizer_class 'T5Tokenizer' is not supported");
        CliRun.AssertBadInput(CliRun.Add("tokenize", "--model", Path.Combine(dir.Path, "nope"), "a cat"), "model folder not found");
    }
}
