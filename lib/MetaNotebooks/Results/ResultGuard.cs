using System.Text.Json.Nodes;

namespace MetaNotebooks.Results;

/// <summary>
/// The one rule that protects the results in papers/: a run's result may replace the one there only when it is at
/// least as complete — the same settings, and at least as many iterations (episodes, steps) of every model the
/// committed one reports. Hours of work must not be replaced by a smoke run, a shorter budget or other settings; those
/// runs are kept in a scratch folder instead (see the CLI's ReproductionContext), unless the user passes --force.
/// </summary>
public static class ResultGuard
{
    /// <summary>Where a result's details say how far a model got: `iterations`, `episodes` or `steps`, at the top or one level down.</summary>
    private static readonly string[] ProgressKeys = ["iterations", "episodes", "steps"];

    /// <summary>
    /// Configuration keys that say how long a run trains or how often it reports, not what it is: a resumed run extends
    /// them. Besides these, a key named like a progress key the details report (e.g. `iterations`) is a length too.
    /// </summary>
    private static readonly HashSet<string> LengthKeys = ["hours", "max_epochs", "max_steps", "total_steps", "eval_every", "show_progress"];

    /// <summary>Null when `candidate` may replace `committed`; otherwise why not, in words for the user.</summary>
    public static string? WhyNotReplace(ResultFile committed, ResultFile candidate)
    {
        var done = Progress(committed);
        var ignored = new HashSet<string>(LengthKeys);
        ignored.UnionWith(done.Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]));
        var differences = Differences(Settings(committed.Config, ignored), Settings(candidate.Config, ignored), "").Take(3).ToList();
        if (differences.Count > 0) return $"its settings differ from the committed result's ({string.Join("; ", differences)})";
        var now = Progress(candidate);
        foreach (var (path, n) in done)
        {
            var reached = now.TryGetValue(path, out var m) ? m : 0;
            if (reached < n) return $"it reached {reached:N0} {path} where the committed result has {n:N0}";
        }
        return null;
    }

    /// <summary>How far each model of a result got: "iterations" → 70000, or "1shot.iterations" → 4847 for several models.</summary>
    public static IReadOnlyDictionary<string, long> Progress(ResultFile result)
    {
        var progress = new Dictionary<string, long>();
        if (result.Details is null) return progress;
        void Read(JsonObject node, string prefix)
        {
            foreach (var key in ProgressKeys)
                // Read from the JSON text: a value made in memory (an int) and one parsed from a file answer TryGetValue differently.
                if (node[key] is JsonValue v && long.TryParse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var n)) progress[prefix + key] = n;
        }
        Read(result.Details, "");
        foreach (var (name, child) in result.Details)
            if (child is JsonObject o) Read(o, name + ".");
        return progress;
    }

    private static JsonNode? Settings(JsonNode? node, HashSet<string> ignored) => node switch
    {
        JsonObject o => new JsonObject(o.Where(kv => !ignored.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, Settings(kv.Value, ignored)))),
        JsonArray a => new JsonArray(a.Select(x => Settings(x, ignored)).ToArray()),
        _ => node?.DeepClone(),
    };

    private static IEnumerable<string> Differences(JsonNode? committed, JsonNode? candidate, string path)
    {
        if (committed is JsonObject a && candidate is JsonObject b)
        {
            foreach (var key in a.Select(kv => kv.Key).Union(b.Select(kv => kv.Key)))
                foreach (var d in Differences(a[key], b[key], path.Length == 0 ? key : $"{path}.{key}"))
                    yield return d;
        }
        else if (!JsonNode.DeepEquals(committed, candidate))
            yield return $"{(path.Length == 0 ? "config" : path)}: {Text(committed)} → {Text(candidate)}";
    }

    private static string Text(JsonNode? node)
    {
        var s = node?.ToJsonString() ?? "none";
        return s.Length > 60 ? s[..57] + "…" : s;
    }
}
