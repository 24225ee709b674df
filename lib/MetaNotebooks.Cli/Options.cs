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

    private static bool IsFlag(string name, string[] flags) => flags.Contains(name) || name is "loop" or "restart" or "quick" or "help";

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

    public double Double(string name, double fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        return double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new UsageException($"--{name} expects a number, got '{s}'");
    }

    public void RejectUnknown()
    {
        var unknown = named.Keys.Where(k => !read.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
