namespace MetaNotebooks.Cli;

/// <summary>`--name value` and `--flag` options plus positional arguments; anything unread is an error.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string?> named = new();
    private readonly HashSet<string> read = new();
    public List<string> Positional { get; } = new();

    public Options(string[] args, params string[] flags)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--")) { Positional.Add(a); continue; }
            var name = a[2..];
            var eq = name.IndexOf('=');
            if (eq >= 0) named[name[..eq]] = name[(eq + 1)..];
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--") && !IsFlag(name, flags)) named[name] = args[++i];
            else named[name] = null;
        }
    }

    private static bool IsFlag(string name, string[] flags) => flags.Contains(name) || name is "loop" or "restart" or "force" or "quick" or "help";

    public bool Flag(string name)
    {
        read.Add(name);
        return named.ContainsKey(name);
    }

    public string? String(string name)
    {
        read.Add(name);
        return named.TryGetValue(name, out var v) ? v ?? throw new UsageException($"--{name} needs a value") : null;
    }

    public int Int(string name, int fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        return int.TryParse(s, out var v) ? v : throw new UsageException($"--{name} expects an integer, got '{s}'");
    }

    /// <summary>Integers separated by commas ("5,6,7"); a part that is not an integer is a usage error quoting the list.</summary>
    public int[] IntList(string name, int[] fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(part => int.TryParse(part, out var v) ? v : throw new UsageException($"--{name} takes integers separated by commas, got '{s}'")).ToArray();
    }

    /// <summary>An integer in [min, max]; out of range is a usage error naming the option and the range.</summary>
    public int Int(string name, int fallback, int min, int max)
    {
        var v = Int(name, fallback);
        return v >= min && v <= max ? v : throw new UsageException($"--{name} must be between {min} and {max}, got {v}");
    }

    /// <summary>
    /// A finite number. NaN and infinities are refused for every option: none of ours means anything by them, and
    /// accepted they become silent wrong numbers ("--hours NaN" read as "no budget") or fail deep inside a run.
    /// </summary>
    public double Double(string name, double fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name} expects a number, got '{s}'");
        return double.IsFinite(v) ? v : throw new UsageException($"--{name} must be a finite number, got '{s}'");
    }

    /// <summary>A finite number in [min, max]; out of range is a usage error naming the option and the range.</summary>
    public double Double(string name, double fallback, double min, double max)
    {
        var v = Double(name, fallback);
        return v >= min && v <= max ? v : throw new UsageException($"--{name} must be between {min:g6} and {max:g6}, got {v:g6}");
    }

    /// <summary>The longest time budget a .NET timer can wait (int.MaxValue milliseconds, 24.8 days), in hours.</summary>
    public const double MaxHours = 596;

    /// <summary>
    /// An optional time budget in hours (null when absent): positive, finite and at most <see cref="MaxHours"/>, checked
    /// here, before any data is loaded or checkpoint touched.
    /// </summary>
    public double? Hours(string name = "hours")
    {
        if (String(name) is null) return null;
        var h = Double(name, 0);
        return h > 0 && h <= MaxHours ? h : throw new UsageException($"--{name} must be a positive number of hours, at most {MaxHours:0} (24.8 days, the longest a timer can wait), got {h:g6}");
    }

    public void RejectUnknown()
    {
        var unknown = named.Keys.Where(k => !read.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
