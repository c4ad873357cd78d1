using Add.Engine.Text;

namespace Add.Tests.Text;

/// <summary>
/// <see cref="ClipTokenizer"/> on the committed SD-Turbo tokenizer (models/configs/sd-turbo/tokenizer) against ids that
/// openai/CLIP's own tokenizer produced.
/// </summary>
public sealed class ClipTokenizerTests
{
    public const int Bos = 49406, Eos = 49407, SdTurboPad = 0, ClipLength = 77;

    private static readonly Lazy<ClipTokenizer> SdTurbo = new(() => ClipTokenizer.Load(SdTurboFolder));

    public static string SdTurboFolder => Path.Combine(Fixtures.Root, "models", "configs", "sd-turbo", "tokenizer");

    /// <summary>
    /// [&lt;|startoftext|&gt;] + openai/CLIP <c>SimpleTokenizer().encode(prompt)</c> + [&lt;|endoftext|&gt;], untruncated and
    /// unpadded. Produced by <c>python3 tests/Add.Tests/Text/clip_reference_ids.py CLIP_CHECKOUT</c>, which runs
    /// <c>clip/simple_tokenizer.py</c> of github openai/CLIP at d05afc436d78f1c48dc0dbf8e5980a9d471f35f6 on that
    /// commit's bpe_simple_vocab_16e6.txt.gz, and printed these lines. ftfy is not installed here, so the script replaces
    /// <c>ftfy.fix_text</c> by NFC normalisation (ftfy's own last step); its other repairs change none of these prompts.
    /// </summary>
    public static readonly Dictionary<string, int[]> Vectors = new()
    {
        ["a photo of a cat"] = [49406, 320, 1125, 539, 320, 2368, 49407],
        ["A cinematic shot of a baby racoon wearing an intricate italian priest robe."] = [49406, 320, 25602, 2000, 539, 320, 1794, 1773, 7100, 3309, 550, 29616, 5175, 14222, 23116, 269, 49407],
        ["Hello, world! It's 2024."] = [49406, 3306, 267, 1002, 256, 585, 568, 273, 271, 273, 275, 269, 49407],
        [""] = [49406, 49407],
        ["Don't stop: we'll go, they've gone, I'm here, you're there, he'd know, it's fine"] = [49406, 847, 713, 1691, 281, 649, 1342, 861, 267, 889, 1200, 3601, 267, 328, 880, 763, 267, 592, 982, 997, 267, 797, 1896, 1038, 267, 585, 568, 3797, 49407],
        ["ALL CAPS, MiXeD CaSe and lower case"] = [49406, 615, 23185, 267, 6780, 2068, 537, 4909, 2068, 49407],
        ["  lots   of\u0009\u0009whitespace \u000a\u000a between\u00a0words  "] = [49406, 2958, 539, 4699, 2138, 1957, 2709, 49407],
        ["caf\u00e9 cr\u00e8me, \u00fcber Stra\u00dfe, ni\u00f1o, \u00c9COLE"] = [49406, 15304, 1075, 12138, 614, 267, 6522, 1516, 1894, 127, 253, 324, 267, 697, 16574, 267, 3459, 8166, 49407],
        ["cafe\u0301 and re\u0301sume\u0301 (decomposed accents)"] = [49406, 15304, 537, 29106, 7054, 4166, 263, 561, 19916, 31738, 264, 49407],
        ["\u212b a\u0302\u0323 \u1112\u1161\u11ab\u1100\u116e\u11a8 (NFC: singleton, mark order, Hangul jamo)"] = [49406, 127, 354, 157, 118, 511, 15197, 250, 31871, 511, 263, 23695, 281, 46247, 267, 2110, 2191, 267, 1545, 21350, 1434, 334, 264, 49407],
        ["\u6771\u4eac\u30bf\u30ef\u30fc, \u041c\u043e\u0441\u043a\u0432\u0430, \u0391\u03b8\u03ae\u03bd\u03b1, \u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u0399\u0391\u03a3, \u0627\u0644\u0642\u0627\u0647\u0631\u0629, \u0939\u093f\u0928\u094d\u0926\u0940"] = [49406, 48338, 21078, 105, 34941, 2429, 107, 30391, 267, 38018, 13506, 23669, 27152, 39813, 27080, 267, 138, 109, 138, 116, 138, 106, 138, 121, 138, 365, 267, 138, 123, 138, 112, 138, 123, 139, 480, 139, 225, 138, 123, 139, 228, 138, 117, 138, 109, 139, 480, 267, 12973, 27585, 8453, 229, 10948, 20915, 267, 29446, 26721, 26090, 19389, 29552, 25751, 49407],
        ["emoji \U0001f600\U0001f431\u200d\U0001f464 \u2764\ufe0f \U0001f1eb\U0001f1f7 party\U0001f389"] = [49406, 16327, 12832, 35710, 4244, 964, 353, 1752, 16223, 1580, 3986, 49407],
        ["pi is 3.14159, 1,000,000 + 42% = \u00bd \u00b2 \u0663"] = [49406, 5357, 533, 274, 269, 272, 275, 272, 276, 280, 267, 272, 267, 271, 271, 271, 267, 271, 271, 271, 266, 275, 273, 260, 284, 33613, 41175, 149, 352, 49407],
        ["!!! ??? ... --- ((brackets)) [x] {y} <z> a/b_c#d@e"] = [49406, 995, 3824, 678, 11079, 13796, 36183, 5167, 314, 343, 316, 346, 344, 348, 283, 345, 285, 320, 270, 321, 318, 322, 258, 323, 287, 324, 49407],
        ["&amp; &lt;html&gt; &quot;quoted&quot; &#39;x&#39; &amp;amp;"] = [49406, 261, 283, 18231, 285, 257, 27706, 257, 262, 343, 262, 261, 49407],
        ["<|endoftext|> and <|STARTOFTEXT|> inside, !<|endoftext|>"] = [49406, 49407, 537, 49406, 2912, 267, 0, 27, 347, 40786, 4160, 91, 285, 49407],
        ["\u0130stanbul \U00020000a rock'n'roll ''s 'S state-of-the-art a\u0345b"] = [49406, 328, 16384, 11231, 172, 254, 222, 222, 320, 2172, 262, 333, 262, 3341, 8445, 338, 568, 1295, 268, 539, 268, 518, 268, 794, 320, 321, 49407],
        ["a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, a red cube on a blue sphere, "] = [49406, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 320, 736, 11353, 525, 320, 1746, 6987, 267, 49407],
        ["pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism"] = [49406, 28714, 749, 20253, 9800, 535, 532, 1065, 901, 1556, 13697, 9916, 78, 39031, 13903, 3120, 4262, 7726, 12658, 1585, 44351, 49407],
    };

    public static TheoryData<string> Prompts() => [.. Vectors.Keys];

    [Theory]
    [MemberData(nameof(Prompts))]
    public void EncodesAsOpenAiClip(string prompt)
    {
        var expected = Vectors[prompt];
        var tokenizer = SdTurbo.Value;
        Assert.Equal(expected[1..^1], tokenizer.Tokenize(prompt));
        // clip.tokenize / transformers: bos + the first 75 tokens + eos, then "!" (id 0) up to 77 for SD 2.x.
        var head = expected.Length <= ClipLength ? expected : [.. expected[..(ClipLength - 1)], Eos];
        var padded = head.Concat(Enumerable.Repeat(SdTurboPad, ClipLength - head.Length)).ToArray();
        Assert.Equal(padded, tokenizer.Encode(prompt));
    }

    [Fact]
    public void MatchesTheVectorsOfTheReferenceNotes()
    {
        // ../shared/reference/sd-turbo.md §5, computed there with openai's algorithm.
        var tokenizer = SdTurbo.Value;
        Assert.Equal([Bos, 320, 1125, 539, 320, 2368, Eos], tokenizer.Encode("a photo of a cat")[..7]);
        Assert.Equal([Bos, 320, 25602, 2000, 539, 320, 1794, 1773, 7100, 3309, 550, 29616, 5175, 14222, 23116, 269, Eos],
            tokenizer.Encode("A cinematic shot of a baby racoon wearing an intricate italian priest robe.")[..17]);
        Assert.Equal([Bos, 3306, 267, 1002, 256, 585, 568, 273, 271, 273, 275, 269, Eos], tokenizer.Encode("Hello, world! It's 2024.")[..13]);
    }

    [Fact]
    public void VocabularyIsOpenAisConstruction()
    {
        var tokenizer = SdTurbo.Value;
        Assert.Equal(49408, tokenizer.VocabSize);
        Assert.Equal(ClipLength, tokenizer.MaxLength);
        Assert.Equal((Bos, Eos, SdTurboPad), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal(("transformers", "CLIPTokenizer"), tokenizer.ModelIndexEntry);
        // "!" = 0, '"' = 1 (bytes_to_unicode order), "!</w>" = 256, the first merge "i n" = 512, the last "jeky ll</w>" = 49405.
        Assert.Equal("!\"#! !", tokenizer.Decode([0, 1, 2, 256, 256]));
        Assert.Equal("in", tokenizer.Decode([512]));
        Assert.Equal([49405], tokenizer.Tokenize("jekyll"));
        Assert.Equal("a photo of a cat", tokenizer.Decode(tokenizer.Tokenize("A  photo of a CAT")));
        Assert.Equal("<|startoftext|> caf\u00e9 \U0001f600 <|endoftext|>", tokenizer.Decode(tokenizer.Encode("Cafe\u0301 \U0001f600")[..4]));
    }
}
