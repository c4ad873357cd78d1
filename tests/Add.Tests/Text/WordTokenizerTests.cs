using Add.Engine.Text;

namespace Add.Tests.Text;

/// <summary><see cref="WordTokenizer"/>: vocabulary order, encoding layout, unknown words, truncation, files.</summary>
public sealed class WordTokenizerTests
{
    // Word counts: grinning 2, cat 1, face 1, heart 1, red 1 → most frequent first, ties in ordinal order.
    private static WordTokenizer Tiny(int maxLength = 6) => WordTokenizer.Build(["grinning face", "red heart", "grinning cat"], maxLength);

    [Fact]
    public void VocabularyIsSpecialsThenWordsByFrequency()
    {
        var tok = Tiny();
        Assert.Equal(9, tok.VocabSize);
        Assert.Equal([1, 4, 5, 6, 7, 8, 2, 0, 0], WordTokenizer.Build(["grinning face", "red heart", "grinning cat"], 9).Encode("grinning cat face heart red"));
    }

    [Fact]
    public void EncodeLowercasesSplitsAtCommasAndPads()
    {
        var tok = Tiny();
        Assert.Equal([WordTokenizer.BosId, 4, 6, WordTokenizer.EosId, WordTokenizer.PadId, WordTokenizer.PadId], tok.Encode("Grinning,  FACE"));
        Assert.Equal([1, 2, 0, 0, 0, 0], tok.Encode(""));
        Assert.Equal(3, WordTokenizer.EosIndex(tok.Encode("red heart")));
        Assert.Equal(["medium-dark", "keycap:", "x"], WordTokenizer.Words("Medium-Dark,keycap: x"));
    }

    [Fact]
    public void UnknownWordsMapToUnk() => Assert.Equal([1, 4, WordTokenizer.UnkId, 7, 2, 0], Tiny().Encode("grinning dog heart"));

    [Fact]
    public void TruncationKeepsTheFirstWordsAndWarns()
    {
        var tok = Tiny(maxLength: 4);
        var warnings = new List<string>();
        Assert.Equal([1, 8, 7, 2], tok.Encode("red heart grinning cat", warnings.Add));
        Assert.Equal("prompt has 4 words, the text encoder takes 2: dropped the last 2 (\"grinning\", \"cat\")", Assert.Single(warnings));

        Assert.Equal([1, 8, 7, 2], tok.Encode("red heart", warnings.Add));
        Assert.Single(warnings);
        tok.Encode("red heart cat", out bool truncated);
        Assert.True(truncated);
        tok.Encode("red heart", out truncated);
        Assert.False(truncated);
    }

    [Fact]
    public void UnknownWordsAreNamedOnceInOneWarning()
    {
        var warnings = new List<string>();
        Assert.Equal([1, 3, 4, 3, 3, 2], Tiny().Encode("dog grinning dog zebra", warnings.Add));
        Assert.Equal("2 unknown word(s), encoded as <unk>: \"dog\", \"zebra\"", Assert.Single(warnings));
        warnings.Clear();
        Tiny().Encode("grinning face", warnings.Add);
        Assert.Empty(warnings);
    }

    [Fact]
    public void WarningsAboutAHugePromptAreBrief()
    {
        // 2,000 words, 10,000+ characters: the warnings name counts and the first few words, never the prompt.
        var prompt = string.Join(' ', Enumerable.Range(0, 2000).Select(i => $"w{i:D4}"));
        var warnings = new List<string>();
        Tiny(maxLength: 6).Encode(prompt, warnings.Add);
        Assert.Equal(["4 unknown word(s), encoded as <unk>: \"w0000\", \"w0001\", \"w0002\", \"w0003\"",
            "prompt has 2000 words, the text encoder takes 4: dropped the last 1996 (\"w0004\", \"w0005\", \"w0006\", \"w0007\", \"w0008\" and 1991 more)"],
            warnings);
        warnings.Clear();
        Tiny(maxLength: 16).Encode(string.Join(' ', Enumerable.Range(0, 9).Select(i => new string((char)('a' + i), 40))), warnings.Add);
        Assert.Equal("9 unknown word(s), encoded as <unk>: \"aaaaaaaaaaaaaaaaaaaaaaaa…\", \"bbbbbbbbbbbbbbbbbbbbbbbb…\", "
            + "\"cccccccccccccccccccccccc…\", \"dddddddddddddddddddddddd…\", \"eeeeeeeeeeeeeeeeeeeeeeee…\" and 4 more", Assert.Single(warnings));
    }

    [Fact]
    public void SaveLoadRoundTrips()
    {
        using var dir = new TempDir();
        var tok = Tiny();
        tok.Save(dir.Path);
        Assert.True(File.Exists(dir.File("vocab.json")) && File.Exists(dir.File("tokenizer_config.json")));
        var loaded = WordTokenizer.Load(dir.Path);
        Assert.Equal(tok.VocabSize, loaded.VocabSize);
        Assert.Equal(tok.MaxLength, loaded.MaxLength);
        foreach (var text in new[] { "grinning face", "red heart cat", "", "unknown words here", "a b c d e f g" })
            Assert.Equal(tok.Encode(text), loaded.Encode(text));
    }

    [Theory]
    [InlineData("""{"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 4, "cat": 3}""", "must map")]        // special ids moved
    [InlineData("""{"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3, "cat": 5}""", "no gaps")]        // a hole in the ids
    [InlineData("""{"<pad>": 0, "<bos>": 1, """, "not valid JSON")]                                // truncated file
    public void BadVocabularyIsRefusedWithTheReason(string vocab, string reason)
    {
        using var dir = new TempDir();
        Tiny().Save(dir.Path);
        File.WriteAllText(dir.File("vocab.json"), vocab);
        var e = Assert.Throws<InvalidDataException>(() => WordTokenizer.Load(dir.Path));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void MissingFilesAndKeysAreNamed()
    {
        using var dir = new TempDir();
        Tiny().Save(dir.Path);
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"tokenizer_class": "WordTokenizer"}""");
        var e = Assert.Throws<InvalidDataException>(() => WordTokenizer.Load(dir.Path));
        Assert.Contains("model_max_length", e.Message);
        Assert.Contains(dir.File("tokenizer_config.json"), e.Message);

        File.Delete(dir.File("vocab.json"));
        e = Assert.Throws<InvalidDataException>(() => WordTokenizer.Load(dir.Path));
        Assert.Contains("vocab.json", e.Message);
    }
}
