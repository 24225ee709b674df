using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetaNotebooks.Results;

/// <summary>A row of a published table: the method and one value per column (null where the paper has none).</summary>
public sealed record PublishedRow(string Method, IReadOnlyList<double?> Values, IReadOnlyList<double?>? Ci95 = null, string? Source = null);

/// <summary>A published table: what it measures, its columns, its rows, and notes (e.g. which K an appendix uses).</summary>
public sealed record PublishedTable(string Id, string Title, string Metric, bool HigherIsBetter, IReadOnlyList<string> Columns,
                                    IReadOnlyList<PublishedRow> Rows, string? Note = null);

/// <summary>papers/&lt;paper-id&gt;/published.json: citation, hyperparameters and tables exactly as published.</summary>
public sealed record PublishedPaper(string Id, string Title, string Citation, string Url, JsonObject Hyperparameters,
                                    IReadOnlyList<PublishedTable> Tables, IReadOnlyList<string>? Notes = null)
{
    public static PublishedPaper Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<PublishedPaper>(File.ReadAllText(path), ResultFile.Json)
                   ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid published.json ({e.Message})", e);
        }
    }

    public PublishedTable Table(string id) =>
        Tables.FirstOrDefault(t => t.Id == id) ?? throw new KeyNotFoundException($"{Id}/published.json has no table '{id}'");
}
