using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// A preprocessed dataset on disk: one tensor file (<see cref="torch.save"/>: atomic, SHA-256 checked) plus a JSON
/// index, both named by a key: the SHA-256 of what the content depends on (the sources' hashes and the
/// preprocessing options, as a JSON description). Other sources or options → another key → another cache file, so
/// changing an option never reuses a stale cache, and switching back reuses the first one. The index is written
/// after the tensor file, so an index always describes a complete tensor file; a damaged file of either kind is
/// reported and the cache rebuilt.
/// </summary>
public sealed class TensorCache
{
    private const int FormatVersion = 1;

    /// <param name="directory">Where cache files go (<see cref="DataPaths.CacheDirectory"/>).</param>
    /// <param name="name">The dataset, a file-name prefix ("omniglot", "mini-imagenet-test").</param>
    /// <param name="description">Everything the content depends on; its canonical JSON is hashed into the key.</param>
    public TensorCache(string directory, string name, JsonObject description)
    {
        description["cacheFormat"] = FormatVersion;
        Description = description.ToJsonString();
        Key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Description)));
        var stem = Path.Combine(directory, $"{name}-{Key[..16]}");
        TensorPath = stem + ".mntd";
        IndexPath = stem + ".json";
    }

    public string Key { get; }
    public string Description { get; }
    public string TensorPath { get; }
    public string IndexPath { get; }

    /// <summary>
    /// The cached tensors and the index's "content" object, or null when there is no cache for this key or it is
    /// damaged (then `problem` says what was wrong; the caller rebuilds and <see cref="Save"/> replaces it).
    /// </summary>
    public (Dictionary<string, Tensor> Tensors, JsonObject Content)? TryLoad(out string? problem)
    {
        problem = null;
        if (!File.Exists(IndexPath) && !File.Exists(TensorPath)) return null;
        JsonObject content;
        try
        {
            var index = JsonNode.Parse(File.ReadAllText(IndexPath)) as JsonObject ?? throw new JsonException("not a JSON object");
            if ((string?)index["key"] != Key) { problem = $"{IndexPath} belongs to another key"; return null; }
            content = index["content"] as JsonObject ?? throw new JsonException("no \"content\"");
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or FormatException)
        {
            problem = $"{IndexPath} is unreadable ({e.Message})";
            return null;
        }
        try
        {
            return (torch.load(TensorPath), content);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>Writes the tensor file, then the index (each atomically).</summary>
    public void Save(IReadOnlyDictionary<string, Tensor> tensors, JsonObject content)
    {
        torch.save(tensors, TensorPath);
        var index = new JsonObject
        {
            ["key"] = Key,
            ["tensorFile"] = Path.GetFileName(TensorPath),
            ["created"] = DateTime.UtcNow.ToString("O"),
            ["describes"] = JsonNode.Parse(Description),
            ["content"] = content,
        };
        AtomicFile.WriteAllText(IndexPath, index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
