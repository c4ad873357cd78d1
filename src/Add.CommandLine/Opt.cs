using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Add.CommandLine;

/// <summary>
/// Option factories for `add` and `add-train`: each parses its value itself so that a bad value gets one message that
/// names the option, states the allowed values (type and range, or the choices) and repeats what was given.
/// </summary>
public static class Opt
{
    /// <summary>A string option (a path, a prompt); <paramref name="helpName"/> is the placeholder help shows (DIR, FILE).</summary>
    public static Option<string?> Text(string name, string description, string helpName, params string[] aliases)
        => new(name, aliases) { Description = description, HelpName = helpName };

    /// <summary>An image file to write: the extension must be one <see cref="Add.Engine.Imaging.Png.Save"/> writes
    /// (.png, .jpg, .jpeg), checked while parsing, before any work.</summary>
    public static Option<string?> ImageOutput(string name, string description, params string[] aliases)
    {
        var option = Text(name, description, "FILE", aliases);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is not { } path) return;
            try { Add.Engine.Imaging.Png.CheckExtension(path); }
            catch (NotSupportedException e) { r.AddError(e.Message); }
        });
        return option;
    }

    /// <summary>A flag: present means true.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>] with a default.</summary>
    public static Option<int> IntRange(string name, string description, int defaultValue, int min, int max, string helpName = "N")
        => new(name)
        {
            Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue,
            CustomParser = r => (int)(ParseInteger(r, name, min, max) ?? defaultValue),
        };

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], null when not given (the caller picks a default).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max, string helpName = "N")
        => new(name)
        {
            Description = description, HelpName = helpName,
            CustomParser = r => (int?)ParseInteger(r, name, min, max),
        };

    /// <summary>A 64-bit integer in [<paramref name="min"/>, <paramref name="max"/>] with a default.</summary>
    public static Option<long> LongRange(string name, string description, long defaultValue, long min, long max, string helpName = "N")
        => new(name)
        {
            Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInteger(r, name, min, max) ?? defaultValue,
        };

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>] (or (min, max] when
    /// <paramref name="minExclusive"/>), null when not given.</summary>
    public static Option<double?> OptionalNumber(string name, string description, double min, double max, bool minExclusive = false, string helpName = "X")
        => new(name)
        {
            Description = description, HelpName = helpName,
            CustomParser = r => ParseNumber(r, name, min, max, minExclusive),
        };

    /// <summary>As <see cref="OptionalNumber"/>, with a default.</summary>
    public static Option<double> Number(string name, string description, double defaultValue, double min, double max, bool minExclusive = false, string helpName = "X")
        => new(name)
        {
            Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseNumber(r, name, min, max, minExclusive) ?? defaultValue,
        };

    /// <summary>One of named <paramref name="choices"/> (matched ignoring case); help lists them as a|b|c. Extra
    /// spellings accepted but not listed go in <paramref name="aliases"/>.</summary>
    public static Option<T> Choice<T>(string name, string description, string noun, T defaultValue,
        IReadOnlyList<(string Name, T Value)> choices, IReadOnlyList<(string Name, T Value)>? aliases = null)
        => new(name)
        {
            Description = description, HelpName = string.Join('|', choices.Select(c => c.Name)), DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseChoice(r, name, noun, choices, aliases) is (true, var v) ? v : defaultValue,
        };

    /// <summary>As <see cref="Choice{T}"/>, null when not given.</summary>
    public static Option<T?> OptionalChoice<T>(string name, string description, string noun,
        IReadOnlyList<(string Name, T Value)> choices, IReadOnlyList<(string Name, T Value)>? aliases = null) where T : struct
        => new(name)
        {
            Description = description, HelpName = string.Join('|', choices.Select(c => c.Name)),
            CustomParser = r => ParseChoice(r, name, noun, choices, aliases) is (true, var v) ? v : null,
        };

    /// <summary>The choices of an enum by their lower-case names, words split by '-' (EulerAncestral → euler-ancestral).</summary>
    public static (string Name, T Value)[] EnumChoices<T>() where T : struct, Enum
        => Enum.GetValues<T>().Select(v => (Kebab(v.ToString()), v)).ToArray();

    /// <summary>"EulerAncestral" → "euler-ancestral".</summary>
    public static string Kebab(string pascal)
        => string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>"a, b or c".</summary>
    public static string Either(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    /// <summary>"from 1 to 4": the allowed range as help and errors state it.</summary>
    public static string Range(long min, long max) => $"from {min} to {max}";

    static string NumberRange(double min, double max, bool minExclusive)
        => double.IsPositiveInfinity(max) ? (minExclusive ? $"greater than {Format(min)}" : $"at least {Format(min)}")
           : minExclusive ? $"greater than {Format(min)} and at most {Format(max)}"
           : $"from {Format(min)} to {Format(max)}";

    static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static long? ParseInteger(ArgumentResult r, string name, long min, long max)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            r.AddError($"{name} must be an integer {Range(min, max)}, got '{text}'");
            return null;
        }
        return v;
    }

    static double? ParseNumber(ArgumentResult r, string name, double min, double max, bool minExclusive)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v)
            || (minExclusive ? v <= min : v < min) || v > max)
        {
            r.AddError($"{name} must be a number {NumberRange(min, max, minExclusive)}, got '{text}'");
            return null;
        }
        return v;
    }

    static (bool Ok, T Value) ParseChoice<T>(ArgumentResult r, string name, string noun,
        IReadOnlyList<(string Name, T Value)> choices, IReadOnlyList<(string Name, T Value)>? aliases)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        foreach (var (n, v) in choices.Concat(aliases ?? []))
            if (string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) return (true, v);
        r.AddError($"unknown {noun} '{text}' for {name} (choose {Either(choices.Select(c => c.Name))})");
        return (false, default!);
    }
}
