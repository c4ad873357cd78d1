using System.CommandLine;
using System.IO.Compression;
using System.Security.Cryptography;
using Add.CommandLine;
using Add.Engine.Text;

namespace Add.Train.Data;

/// <summary>
/// `add-train clip-vocab --from bpe_simple_vocab_16e6.txt.gz --out DIR`: writes the Hugging Face files of CLIP's
/// tokenizer (vocab.json, merges.txt) from openai/CLIP's merges file, as <c>clip/simple_tokenizer.py</c> builds its
/// vocabulary (<see cref="ClipVocabulary.Build"/>). This is how models/configs/sd-turbo/tokenizer/ was made.
/// </summary>
public static class ClipVocabCommand
{
    /// <summary>sha256 of openai/CLIP's clip/bpe_simple_vocab_16e6.txt.gz (git blob 7b5088a527f720063f044eb928eee315f63b2fc0).</summary>
    public const string OpenAiSha256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a";

    /// <summary>The `clip-vocab` command.</summary>
    public static Command Create()
    {
        var from = Opt.Text("--from", "openai/CLIP's clip/bpe_simple_vocab_16e6.txt.gz", "FILE");
        var output = Opt.Text("--out", "folder to write vocab.json and merges.txt into", "DIR");
        from.Required = true;
        output.Required = true;
        var command = new Command("clip-vocab", "Write CLIP's vocab.json and merges.txt from openai/CLIP's bpe_simple_vocab_16e6.txt.gz.") { from, output };
        command.SetAction(p => Run(p.GetValue(from)!, p.GetValue(output)!, p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string from, string outDir, TextWriter output, TextWriter log)
    {
        if (!File.Exists(from)) throw new UsageException($"clip-vocab: {from} does not exist");
        var gz = File.ReadAllBytes(from);
        var sha = Convert.ToHexStringLower(SHA256.HashData(gz));
        if (sha != OpenAiSha256) log.WriteLine($"add-train: warning: {from} has sha256 {sha}, not openai/CLIP's {OpenAiSha256}");
        string text;
        try
        {
            using var reader = new StreamReader(new GZipStream(new MemoryStream(gz), CompressionMode.Decompress));
            text = reader.ReadToEnd();
        }
        catch (InvalidDataException e) { throw new UsageException($"clip-vocab: {from} is not a gzip file ({e.Message})"); }
        var merges = ClipVocabulary.ParseOpenAiMerges(text, from);
        var vocab = ClipVocabulary.Build(merges);
        ClipVocabulary.Write(outDir, vocab, merges);
        output.WriteLine($"{outDir}: {ClipTokenizer.VocabFile} ({vocab.Count:N0} tokens), {ClipTokenizer.MergesFile} ({merges.Count:N0} merges) from {from} (sha256 {sha})");
        return 0;
    }
}
