using System.IO.Compression;
using Add.Tests.Cli;

namespace Add.Tests.Text;

/// <summary>`add-train clip-vocab`: regenerates the committed vocab.json and merges.txt byte for byte.</summary>
public sealed class ClipVocabCommandTests
{
    [Fact]
    public void RegeneratesTheCommittedFilesFromAMergesList()
    {
        // The committed merges.txt has openai's layout (a header line, then the 48,894 merges in rank order), so gzipped
        // it stands in for bpe_simple_vocab_16e6.txt.gz (whose later, unused lines it lacks: hence the sha256 warning).
        using var dir = new TempDir();
        var gz = dir.File("merges.txt.gz");
        using (var file = File.Create(gz))
        using (var zip = new GZipStream(file, CompressionLevel.Fastest))
            zip.Write(File.ReadAllBytes(Path.Combine(ClipTokenizerTests.SdTurboFolder, "merges.txt")));
        var outDir = Path.Combine(dir.Path, "out");
        var (code, output, error) = CliRun.Train("clip-vocab", "--from", gz, "--out", outDir);
        Assert.Equal(0, code);
        Assert.Contains("49,408 tokens", output);
        Assert.Contains("48,894 merges", output);
        Assert.Contains("not openai/CLIP's 924691ac", error);
        foreach (var name in new[] { "vocab.json", "merges.txt" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(ClipTokenizerTests.SdTurboFolder, name)), File.ReadAllBytes(Path.Combine(outDir, name)));
    }

    [Fact]
    public void RefusesAFileThatIsNotAGzipOfMerges()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("plain.txt"), "#version: 0.2\ni n\n");
        Assert.Equal(2, CliRun.Train("clip-vocab", "--from", dir.File("plain.txt"), "--out", dir.Path).Code);
        using (var file = File.Create(dir.File("short.gz")))
        using (var zip = new GZipStream(file, CompressionLevel.Fastest))
            zip.Write("#version: 0.2\ni n\n"u8);
        var (code, _, error) = CliRun.Train("clip-vocab", "--from", dir.File("short.gz"), "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("expected at least 48895", error);
    }
}
