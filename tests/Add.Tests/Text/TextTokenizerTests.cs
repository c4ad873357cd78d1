using Add.Engine.Text;

namespace Add.Tests.Text;

/// <summary><see cref="TextTokenizer.Load"/> picks the tokenizer by tokenizer_class; our emoji models keep their ids.</summary>
public sealed class TextTokenizerTests
{
    [Theory]
    [InlineData("add-emoji-32")]
    [InlineData("emoji-32-teacher")]
    public void EmojiModelsLoadTheirWordTokenizerWithUnchangedIds(string model)
    {
        var folder = Path.Combine(Fixtures.Root, "models", model, "tokenizer");
        var tokenizer = Assert.IsType<WordTokenizer>(TextTokenizer.Load(folder));
        var direct = WordTokenizer.Load(folder);
        Assert.Equal(direct.VocabSize, tokenizer.VocabSize);
        Assert.Equal(16, tokenizer.MaxLength);
        Assert.Equal(("add", "WordTokenizer"), tokenizer.ModelIndexEntry);
        foreach (var prompt in new[] { "grinning face", "Red Heart, keycap: 1", "", "cat with wry smile zzzz" })
            Assert.Equal(direct.Encode(prompt, out _), tokenizer.Encode(prompt));
        // The shipped vocabulary's first words, as trained: <bos> grinning face <eos> <pad>….
        Assert.Equal([WordTokenizer.BosId, WordTokenizer.EosId, 0, 0], tokenizer.Encode("")[..4]);
    }

    [Fact]
    public void SdTurboLoadsTheClipTokenizer()
        => Assert.IsType<ClipTokenizer>(TextTokenizer.Load(ClipTokenizerTests.SdTurboFolder));

    [Theory]
    [InlineData("""{"tokenizer_class": "GPT2Tokenizer", "model_max_length": 77}""", "tokenizer_class 'GPT2Tokenizer' is not supported")]
    [InlineData("""{"model_max_length": 77}""", "missing 'tokenizer_class'")]
    [InlineData("""{"tokenizer_class": 3}""", "tokenizer_class '3' is not supported")]
    [InlineData("""{"tokenizer_class": """, "not valid JSON")]
    public void UnknownOrMissingClassIsRefusedNamingFileAndValue(string config, string reason)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer_config.json"), config);
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(dir.Path));
        Assert.Contains(reason, e.Message);
        Assert.Contains(dir.File("tokenizer_config.json"), e.Message);
    }

    [Fact]
    public void MissingConfigIsNamed()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => TextTokenizer.Load(dir.Path));
        Assert.Contains(dir.File("tokenizer_config.json"), e.Message);
    }
}
