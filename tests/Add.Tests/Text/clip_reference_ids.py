"""Prints the expected ids of ClipTokenizerTests.Vectors, computed by openai/CLIP's own tokenizer.

Usage (python3 with the `regex` module):
    python3 tests/Add.Tests/Text/clip_reference_ids.py CLIP_CHECKOUT

CLIP_CHECKOUT is a checkout of github openai/CLIP (commit d05afc436d78f1c48dc0dbf8e5980a9d471f35f6 was used); the
script runs its clip/simple_tokenizer.py on its clip/bpe_simple_vocab_16e6.txt.gz and prints, for each prompt, the
ids [<|startoftext|>] + SimpleTokenizer().encode(prompt) + [<|endoftext|>] (untruncated, unpadded) as C# lines.

`ftfy` is not installed here, so ftfy.fix_text is replaced by Unicode NFC normalisation: that is ftfy's own last
step (its default normalization='NFC'); its heuristic repairs (mojibake, curly quotes, control characters) change
none of these well-formed prompts.
"""
import os
import sys
import types
import unicodedata

ftfy = types.ModuleType("ftfy")
ftfy.fix_text = lambda text: unicodedata.normalize("NFC", text)
sys.modules["ftfy"] = ftfy
sys.path.insert(0, os.path.join(sys.argv[1], "clip"))
import simple_tokenizer  # noqa: E402

PROMPTS = [
    "a photo of a cat",
    "A cinematic shot of a baby racoon wearing an intricate italian priest robe.",
    "Hello, world! It's 2024.",
    "",
    "Don't stop: we'll go, they've gone, I'm here, you're there, he'd know, it's fine",
    "ALL CAPS, MiXeD CaSe and lower case",
    "  lots   of\t\twhitespace \n\n between\u00a0words  ",
    "caf\u00e9 cr\u00e8me, \u00fcber Stra\u00dfe, ni\u00f1o, \u00c9COLE",
    "cafe\u0301 and re\u0301sume\u0301 (decomposed accents)",
    "\u212b a\u0302\u0323 \u1112\u1161\u11ab\u1100\u116e\u11a8 (NFC: singleton, mark order, Hangul jamo)",
    "\u6771\u4eac\u30bf\u30ef\u30fc, \u041c\u043e\u0441\u043a\u0432\u0430, \u0391\u03b8\u03ae\u03bd\u03b1, \u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u0399\u0391\u03a3, \u0627\u0644\u0642\u0627\u0647\u0631\u0629, \u0939\u093f\u0928\u094d\u0926\u0940",
    "emoji \U0001F600\U0001F431\u200d\U0001F464 \u2764\ufe0f \U0001F1EB\U0001F1F7 party\U0001F389",
    "pi is 3.14159, 1,000,000 + 42% = \u00bd \u00b2 \u0663",
    "!!! ??? ... --- ((brackets)) [x] {y} <z> a/b_c#d@e",
    "&amp; &lt;html&gt; &quot;quoted&quot; &#39;x&#39; &amp;amp;",
    "<|endoftext|> and <|STARTOFTEXT|> inside, !<|endoftext|>",
    "\u0130stanbul \U00020000a rock'n'roll ''s 'S state-of-the-art a\u0345b",
    "a red cube on a blue sphere, " * 10,
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
]


def literal(text):
    out = []  # printable ASCII as is, everything else escaped: exactly these code points, whatever an editor normalises
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append("\\U%08x" % ord(ch))
    return '"' + "".join(out) + '"'


tokenizer = simple_tokenizer.SimpleTokenizer(os.path.join(sys.argv[1], "clip", "bpe_simple_vocab_16e6.txt.gz"))
sot, eot = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]
for prompt in PROMPTS:
    ids = [sot] + tokenizer.encode(prompt) + [eot]
    print("        [%s] = [%s]," % (literal(prompt), ", ".join(map(str, ids))))
