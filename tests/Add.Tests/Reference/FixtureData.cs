using Add.Train.Data;

namespace Add.Tests.Reference;

/// <summary>The emoji-32 pipeline run once on the committed fixture, shared by the training tests.</summary>
public static class FixtureData
{
    static readonly Lazy<Emoji32> Data = new(() => Emoji32Builder.Build(EmojiFixture.Read(Fixtures.EmojiMini), _ => { }));
    public static Emoji32 Emoji => Data.Value;
}
