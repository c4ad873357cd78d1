using Add.Engine.Text;

namespace Add.Tests.Text;

/// <summary><see cref="ClipTokenizer"/>'s files: the pad rule of SD 1.x vs SD 2.x, special tokens as strings or objects,
/// save/load, and every bad file refused with its name.</summary>
public sealed class ClipTokenizerFilesTests
{
    private const int Eos = ClipTokenizerTests.Eos;

    /// <summary>A copy of the SD-Turbo tokenizer folder; <paramref name="specialTokensMap"/> replaces its
    /// special_tokens_map.json (null: no such file).</summary>
    private static TempDir Copy(string? specialTokensMap = "keep")
    {
        var dir = new TempDir();
        foreach (var file in Directory.GetFiles(ClipTokenizerTests.SdTurboFolder, "*.*"))
            File.Copy(file, dir.File(Path.GetFileName(file)));
        if (specialTokensMap is null) File.Delete(dir.File(ClipTokenizer.SpecialTokensMapFile));
        else if (specialTokensMap != "keep") File.WriteAllText(dir.File(ClipTokenizer.SpecialTokensMapFile), specialTokensMap);
        return dir;
    }

    [Fact]
    public void Sd2PadsWithExclamationMarkFromSpecialTokensMapOverTokenizerConfig()
    {
        // sd-turbo's tokenizer_config.json says pad "<|endoftext|>", its special_tokens_map.json "!": the map wins.
        var ids = ClipTokenizer.Load(ClipTokenizerTests.SdTurboFolder).Encode("a photo of a cat");
        Assert.Equal([.. new[] { 49406, 320, 1125, 539, 320, 2368, Eos }, .. Enumerable.Repeat(0, 70)], ids);
    }

    [Theory]
    [InlineData("""{"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""", Eos)]
    [InlineData("""{"pad_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true}}""", Eos)]
    [InlineData("""{"pad_token": {"content": "!", "normalized": false}}""", 0)]
    [InlineData("""{"pad_token": null}""", Eos)]     // null: not set here, so tokenizer_config.json's "<|endoftext|>"
    [InlineData(null, Eos)]                          // no map: tokenizer_config.json's pad
    public void Sd1PadsWithEndOfText(string? specialTokensMap, int pad)
    {
        using var dir = Copy(specialTokensMap);
        var tokenizer = ClipTokenizer.Load(dir.Path);
        Assert.Equal(pad, tokenizer.PadId);
        Assert.Equal([49406, 320, 2368, Eos, pad, pad], tokenizer.Encode("a cat")[..6]);
        Assert.All(tokenizer.Encode("a cat")[4..], id => Assert.Equal(pad, id));
    }

    [Fact]
    public void WithoutAnyPadTokenPadsWithEos()
    {
        using var dir = Copy(specialTokensMap: null);
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"tokenizer_class": "CLIPTokenizer", "model_max_length": 77}""");
        var tokenizer = ClipTokenizer.Load(dir.Path);
        Assert.Equal((49406, Eos, Eos), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
    }

    [Fact]
    public void ModelMaxLengthSetsTheLengthAndTruncation()
    {
        using var dir = Copy();
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"tokenizer_class": "CLIPTokenizer", "model_max_length": 5}""");
        var tokenizer = ClipTokenizer.Load(dir.Path);
        var warnings = new List<string>();
        Assert.Equal([49406, 320, 1125, 539, Eos], tokenizer.Encode("a photo of a cat", warnings.Add));
        Assert.Equal("prompt is 5 tokens, the text encoder takes 3: dropped the last 2 (\"a\", \"cat\")", Assert.Single(warnings));
    }

    [Fact]
    public void TruncationWarningIsBriefForAHugePrompt()
    {
        var prompt = string.Concat(Enumerable.Repeat("a red cube on a blue sphere, ", 400));   // 11,600 characters, 3,200 tokens
        var warnings = new List<string>();
        var ids = ClipTokenizer.Load(ClipTokenizerTests.SdTurboFolder).Encode(prompt, warnings.Add);
        Assert.Equal(ClipTokenizerTests.ClipLength, ids.Length);
        Assert.Equal(Eos, ids[^1]);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("prompt is 3200 tokens, the text encoder takes 75: dropped the last 3125 (\"on\", \"a\", \"blue\", \"sphere\", \",\" and ", warning);
        Assert.True(warning.Length < 200, warning);
        Assert.Empty(WarningsOf("a red cube on a blue sphere"));
    }

    private static List<string> WarningsOf(string prompt)
    {
        var warnings = new List<string>();
        ClipTokenizer.Load(ClipTokenizerTests.SdTurboFolder).Encode(prompt, warnings.Add);
        return warnings;
    }

    [Fact]
    public void SaveLoadRoundTripsEveryFile()
    {
        using var dir = new TempDir();
        var original = ClipTokenizer.Load(ClipTokenizerTests.SdTurboFolder);
        original.Save(dir.Path);
        foreach (var name in new[] { "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(ClipTokenizerTests.SdTurboFolder, name)), File.ReadAllBytes(dir.File(name)));
        var loaded = TextTokenizer.Load(dir.Path);
        Assert.IsType<ClipTokenizer>(loaded);
        Assert.Equal(original.Encode("a red cube, 3 blue spheres"), loaded.Encode("a red cube, 3 blue spheres"));
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        foreach (var name in new[] { "merges.txt", "vocab.json" })
        {
            using var dir = Copy();
            File.Delete(dir.File(name));
            var e = Assert.Throws<FileNotFoundException>(() => TextTokenizer.Load(dir.Path));
            Assert.Contains(dir.File(name), e.Message);
        }
    }

    [Theory]
    [InlineData("vocab.json", """{"!": 0, "\"": 1, """, "not a JSON object")]                  // cut short
    [InlineData("vocab.json", """["!", "\""]""", "not a JSON object")]                          // a list, not a map
    [InlineData("vocab.json", """{"!": 0, "\"": 2}""", "outside 0..1")]                          // a gap in the ids
    [InlineData("vocab.json", """{"!": 0, "\"": 0}""", "given to both")]                          // a repeated id
    [InlineData("vocab.json", """{"!": 0, "\"": 1}""", "lacks the byte symbol")]                  // not a byte-level vocabulary
    [InlineData("merges.txt", "#version: 0.2\ni n\nt h e\n", "merges.txt:3: expected two symbols")]
    [InlineData("merges.txt", "#version: 0.2\ni n\nzz qq\n", "merges.txt:3: merge \"zz qq\" makes \"zzqq\"")]
    [InlineData("tokenizer_config.json", """{"tokenizer_class": "CLIPTokenizer"}""", "'model_max_length' must be an integer")]
    [InlineData("tokenizer_config.json", """{"tokenizer_class": "CLIPTokenizer", "model_max_length": 1e30}""", "'model_max_length' must be an integer")]
    [InlineData("tokenizer_config.json", """{"tokenizer_class": "CLIPTokenizer", """, "not valid JSON")]
    [InlineData("special_tokens_map.json", """{"pad_token": "<pad>"}""", "pad_token \"<pad>\" is not in")]
    [InlineData("special_tokens_map.json", """{"bos_token": 7}""", "'bos_token' must be a string or an object")]
    [InlineData("special_tokens_map.json", """{"eos_token": {"text": "x"}}""", "'eos_token' must be a string or an object")]
    [InlineData("special_tokens_map.json", """{"pad_token": "!" """, "not valid JSON")]
    public void BadFilesAreRefusedNamingTheFile(string file, string content, string reason)
    {
        using var dir = Copy();
        File.WriteAllText(dir.File(file), content);
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(dir.Path));
        Assert.Contains(reason, e.Message);
        Assert.Contains(dir.File(file), e.Message);
    }
}
