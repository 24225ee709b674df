using System.Text.Json;

namespace MetaNotebooks.Results;

/// <summary>
/// The invocations of a run so far, kept beside its checkpoints (&lt;stem&gt;.invocations.json, the stem shared by the
/// checkpoint files' names) so that a resumed run knows the invocations before it, including those that were stopped
/// before writing a result; the result file carries the list (<see cref="ResultFile.Invocations"/>).
/// </summary>
public static class InvocationHistory
{
    public const string Suffix = ".invocations.json";

    /// <summary>The history file of a run with these checkpoint files: in the first one's folder, named by the longest stem their names share.</summary>
    public static string PathFor(IReadOnlyList<string> checkpointPaths)
    {
        if (checkpointPaths.Count == 0) throw new ArgumentException("a run without checkpoints has no invocation history to keep", nameof(checkpointPaths));
        var names = checkpointPaths.Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();
        var prefix = names.Aggregate((a, b) => a[..a.Zip(b).TakeWhile(p => p.First == p.Second).Count()]).TrimEnd('-', '.', '_');
        if (prefix.Length == 0) prefix = names[0];
        return Path.Combine(Path.GetDirectoryName(checkpointPaths[0])!, prefix + Suffix);
    }

    /// <summary>The invocations recorded at path, oldest first; none when the file does not exist.</summary>
    public static IReadOnlyList<Invocation> Load(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<Invocation>>(File.ReadAllText(path), ResultFile.Json)
                   ?? throw new InvalidDataException($"{path}: empty invocation history");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid invocation history ({e.Message}). It lists the earlier invocations of the run " +
                                           "whose checkpoint is beside it: repair it from the result files' \"invocations\", or delete it to start a new list.", e);
        }
    }

    /// <summary>Writes the list (temp file, then rename).</summary>
    public static void Save(string path, IReadOnlyList<Invocation> history) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(history, ResultFile.Json) + "\n");
}
