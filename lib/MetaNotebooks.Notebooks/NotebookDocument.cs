using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Results;

namespace MetaNotebooks.Notebooks;

/// <summary>
/// An .ipynb file (nbformat 4) as a JSON tree: read, edited in place, and written back the way Jupyter writes
/// it (keys sorted, one-space indent, text as lists of lines), so that re-running a notebook changes only
/// the outputs that changed.
/// </summary>
public sealed class NotebookDocument
{
    private NotebookDocument(string path, JsonObject root)
    {
        Path = path;
        Root = root;
    }

    /// <summary>The name of this repository's Jupyter kernel ("C# (MetaNotebooks)") in kernelspecs and notebook metadata.</summary>
    public const string KernelName = "metanotebooks-csharp";

    public string Path { get; }
    public JsonObject Root { get; }

    public JsonArray Cells => Root["cells"] as JsonArray ?? throw new InvalidDataException($"{Path}: the notebook has no \"cells\" list.");

    public static NotebookDocument Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No notebook at {path}.", full);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(full));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject root || root["cells"] is not JsonArray)
            throw new InvalidDataException($"{path} is not a Jupyter notebook (no \"cells\" list).");
        if (root["nbformat"]?.GetValue<int>() is { } major && major != 4)
            throw new InvalidDataException($"{path} is nbformat {major}; only nbformat 4 is supported.");
        return new NotebookDocument(full, root);
    }

    /// <summary>A new notebook for this repository's kernel, with the Polyglot Notebooks metadata beside it so that both open it.</summary>
    public static NotebookDocument Create(string path) => new(System.IO.Path.GetFullPath(path), new JsonObject
    {
        ["cells"] = new JsonArray(),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = "C# (MetaNotebooks)", ["language"] = "csharp", ["name"] = KernelName },
            ["language_info"] = new JsonObject
            {
                ["codemirror_mode"] = "text/x-csharp", ["file_extension"] = ".cs", ["mimetype"] = "text/x-csharp", ["name"] = "csharp", ["pygments_lexer"] = "csharp",
            },
            ["polyglot_notebook"] = new JsonObject
            {
                ["kernelInfo"] = new JsonObject
                {
                    ["defaultKernelName"] = "csharp",
                    ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                },
            },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 2,
    });

    public static JsonObject CodeCellMetadata() => new()
    {
        ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
    };

    public void AddMarkdown(string source) => Cells.Add(new JsonObject
    {
        ["cell_type"] = "markdown",
        ["metadata"] = new JsonObject(),
        ["source"] = Lines(source),
    });

    public void AddCode(string source) => Cells.Add(new JsonObject
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["metadata"] = CodeCellMetadata(),
        ["outputs"] = new JsonArray(),
        ["source"] = Lines(source),
    });

    /// <summary>A cell's source: nbformat allows one string or a list of lines.</summary>
    public static string Source(JsonObject cell) => Text(cell["source"]);

    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>() ?? "")),
        JsonValue v => v.GetValue<string>(),
        _ => throw new InvalidDataException("A notebook text field is neither a string nor a list of strings."),
    };

    /// <summary>Text as nbformat stores it: a list of lines, each but the last ending in "\n".</summary>
    public static JsonArray Lines(string text)
    {
        var array = new JsonArray();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var stop = end < 0 ? text.Length : end + 1;
            array.Add(text[start..stop]);
            start = stop;
        }
        return array;
    }

    /// <summary>The notebook as Jupyter writes it: json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n".</summary>
    public string Serialize()
    {
        var sb = new StringBuilder();
        Write(sb, Root, 0);
        return sb.Append('\n').ToString();
    }

    /// <summary>
    /// Writes the notebook to <paramref name="path"/> (default: where it was read from) through a temp file in the
    /// same folder and a rename: a crash or a failing serialisation leaves the previous file whole.
    /// </summary>
    public void Save(string? path = null) => AtomicFile.WriteAllText(path ?? Path, Serialize());

    private static void Write(StringBuilder sb, JsonNode? node, int indent)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0) { sb.Append("{}"); break; }
                sb.Append("{\n");
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(",\n");
                    first = false;
                    sb.Append(' ', indent + 1);
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value, indent + 1);
                }
                sb.Append('\n').Append(' ', indent).Append('}');
                break;
            case JsonArray array:
                if (array.Count == 0) { sb.Append("[]"); break; }
                sb.Append("[\n");
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(",\n");
                    sb.Append(' ', indent + 1);
                    Write(sb, array[i], indent + 1);
                }
                sb.Append('\n').Append(' ', indent).Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        var element = value.GetValueKind();
        switch (element)
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                // Integers as integers; other numbers in their shortest round-trip form.
                if (value.TryGetValue<long>(out var l)) sb.Append(l.ToString(CultureInfo.InvariantCulture));
                else if (value.TryGetValue<int>(out var i)) sb.Append(i.ToString(CultureInfo.InvariantCulture));
                else
                {
                    var d = value.GetValue<double>();
                    sb.Append(d == Math.Floor(d) && Math.Abs(d) < 1e15 ? ((long)d).ToString(CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture));
                }
                break;
            default:
                sb.Append(value.ToJsonString());
                break;
        }
    }

    /// <summary>Escapes as Python's json with ensure_ascii=False: quotes, backslashes and control characters only.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
