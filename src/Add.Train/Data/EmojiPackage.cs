namespace Add.Train.Data;

/// <summary>
/// One npm package of emoji images (emoji-datasource-*, MIT; images Apache-2.0 Noto Emoji or CC-BY-4.0 Twemoji,
/// see data/ATTRIBUTION.md), pinned by version and by the SHA-512 of its tarball (npm's "integrity", base64).
/// </summary>
public sealed record EmojiPackage(string Name, string Version, string Vendor, string Sha512)
{
    /// <summary>The two vendors of emoji-32 (DESIGN.md §3).</summary>
    public static readonly EmojiPackage[] Pinned =
    [
        new("emoji-datasource-google", "16.0.0", "google",
            "ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=="),
        new("emoji-datasource-twitter", "16.0.0", "twitter",
            "7F+uCuHH+7Qnrc15P5tnbvKkg9E6tlzi4MnT2uW1RlN4pLYTza6cP/dstIfSDMtpjFLWuZewWg8jBbuL2eyELQ=="),
    ];

    /// <summary>File name `npm pack` gives the tarball.</summary>
    public string TarballName => $"{Name}-{Version}.tgz";

    /// <summary>Folder of the 64-px images inside the tarball.</summary>
    public string ImageFolder => $"package/img/{Vendor}/64/";
}
