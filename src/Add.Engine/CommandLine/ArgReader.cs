using System.Globalization;

namespace Add.Engine.CommandLine;

/// <summary>
/// Minimal command-line reader shared by `add` and `add-train`: positional words and `--name value` / `--flag`
/// options. Every read marks the option used; <see cref="ThrowIfUnused"/> reports anything left over, so a typo
/// is an error, not silently ignored.
/// </summary>
public sealed class ArgReader
{
    readonly List<string> _positional = [];
    readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);
    readonly HashSet<string> _flags;

    /// <param name="flags">Options that take no value (e.g. "resume").</param>
    public ArgReader(IEnumerable<string> args, params string[] flags)
    {
        _flags = new HashSet<string>(flags, StringComparer.Ordinal);
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            string? name = a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2 ? a[2..]
                         : a.Length == 2 && a[0] == '-' && char.IsLetter(a[1]) ? a[1..] : null;
            if (name is null) { _positional.Add(a); continue; }
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (!_flags.Contains(name))
            {
                if (i + 1 >= list.Count) throw new UsageException($"option --{name} needs a value");
                value = list[++i];
            }
            if (!_options.TryAdd(name, value)) throw new UsageException($"option --{name} given twice");
        }
    }

    public IReadOnlyList<string> Positional => _positional;

    public bool Flag(string name) { _used.Add(name); return _options.ContainsKey(name); }

    public string? String(string name, params string[] aliases)
    {
        foreach (var n in aliases.Prepend(name))
        {
            _used.Add(n);
            if (_options.TryGetValue(n, out var v)) return v;
        }
        return null;
    }

    public string StringOr(string name, string fallback) => String(name) ?? fallback;

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name} must be an integer, got '{text}'");
        if (v < min || v > max)
            throw new UsageException($"--{name} must be between {min} and {max}, got {v}");
        return v;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new UsageException($"--{name} must be a number, got '{text}'");
        if (v < min || v > max)
            throw new UsageException($"--{name} must be between {min} and {max}, got {v}");
        return v;
    }

    public T Choice<T>(string name, T fallback) where T : struct, Enum
    {
        var text = String(name);
        if (text is null) return fallback;
        if (Enum.TryParse<T>(text.Replace("-", ""), ignoreCase: true, out var v) && Enum.IsDefined(v)) return v;
        throw new UsageException($"--{name} must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}, got '{text}'");
    }

    /// <summary>Fails on options nobody read and on more positional words than <paramref name="maxPositional"/>.</summary>
    public void ThrowIfUnused(int maxPositional)
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option --{unknown[0]}");
        if (_positional.Count > maxPositional)
            throw new UsageException($"unexpected argument '{_positional[maxPositional]}'");
    }
}
