using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MetaNotebooks.Results;

/// <summary>
/// The names a reader sees for what result files key by internal ids: a learner ("maml", "fomaml"), a model of a
/// reproduction ("1shot", "30way"). Legends and tables use these; the ids stay in the files and on the command line.
/// </summary>
public static partial class SeriesNames
{
    private static readonly Dictionary<string, string> Learners = new()
    {
        ["maml"] = "MAML",
        ["fomaml"] = "first-order MAML",
        ["pretrained"] = "pretrained network",
    };

    /// <summary>A human name for an id: the learner's name, "1-shot" for "1shot", "30-way" for "30way"; other text as it is.</summary>
    public static string Of(string id)
    {
        if (Learners.TryGetValue(id, out var name)) return name;
        var m = CountedId().Match(id);
        return m.Success ? $"{m.Groups[1].Value}-{m.Groups[2].Value}" : id;
    }

    /// <summary>
    /// The name of one model (details key) of a result: "model trained 60-way 1-shot" where the configuration lists the
    /// run under that slug with its training ways and shots, otherwise <see cref="Of(string)"/> of the key.
    /// </summary>
    public static string Of(ResultFile result, string key)
    {
        if (result.Config["runs"] is JsonArray runs &&
            runs.OfType<JsonObject>().FirstOrDefault(r => r["slug"]?.GetValue<string>() == key)?["training"] is JsonObject training &&
            training["ways"] is JsonValue ways && training["shots"] is JsonValue shots)
            return $"model trained {ways.ToJsonString()}-way {shots.ToJsonString()}-shot";
        return Of(key);
    }

    /// <summary>
    /// True for text that is, or shows, an internal id rather than a name: the whole text is an id this class renames or
    /// an experiment id, or one of its words is a counted id ("30way"), a learner id ("fomaml") or an experiment id.
    /// </summary>
    public static bool IsInternalId(string text, IReadOnlyCollection<string> experimentIds)
    {
        if (Of(text) != text || experimentIds.Contains(text)) return true;
        return Words().Split(text).Any(w => CountedId().IsMatch(w) || w is "maml" or "fomaml" || experimentIds.Contains(w));
    }

    [GeneratedRegex("[\\s,;:()\\[\\]]+")]
    private static partial Regex Words();

    [GeneratedRegex("^([0-9]+)(shot|way)$")]
    private static partial Regex CountedId();
}
