using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MetaNotebooks.Data;

/// <summary>
/// A dataset file environment.json pins (its "datasets" section): the SHA-256 of the copy this repository's results
/// were made with and, for Omniglot, the MD5 of the official download (github.com/brendenlake/omniglot), which is a
/// different file with the same drawings.
/// </summary>
public sealed record PinnedDataFile(string Dataset, string Name, string Sha256, string? OfficialMd5)
{
    /// <summary>Where it lives under a data root, e.g. omniglot/images_background.zip.</summary>
    public string RelativePath => $"{Dataset}/{Name}";

    public bool IsZip => Name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    /// <summary>What fetches a good copy: the download command for Omniglot, data/README.md for the rest.</summary>
    public string HowToGet => Dataset == "omniglot"
        ? "fetch the official file with `./mn data download omniglot --force`"
        : $"copy {RelativePath} again from where you obtained it (data/README.md says where)";
}

/// <summary>What a dataset file on disk is, against its pin.</summary>
public enum DataFileState
{
    Missing,
    /// <summary>Byte-identical to the copy environment.json pins.</summary>
    Pinned,
    /// <summary>The official download (its MD5 matches), not the pinned copy: the same content.</summary>
    Official,
    /// <summary>Readable, but neither the pinned nor the official file: results may differ from the repository's.</summary>
    Differs,
    /// <summary>A zip whose central directory, an entry's length or an entry's CRC-32 is wrong (e.g. truncated).</summary>
    Damaged,
}

/// <summary>One pinned file checked: where it was found, its state, and a sentence saying what is wrong and how to fix it.</summary>
public sealed record DataFileCheck(PinnedDataFile File, string? Path, DataFileState State, string? Sha256, string Message)
{
    public bool Ok => State is DataFileState.Pinned or DataFileState.Official;
}

/// <summary>Reads the pins of environment.json and checks dataset files against them (`mn data status|verify`, chapter 00, the loaders).</summary>
public static partial class PinnedDataFiles
{
    /// <summary>environment.json of the repository, or null outside a checkout.</summary>
    public static string? EnvironmentJson =>
        RepositoryRoot.TryFind() is { } root && File.Exists(System.IO.Path.Combine(root, "environment.json")) ? System.IO.Path.Combine(root, "environment.json") : null;

    /// <summary>Every file of the "datasets" section of `environmentJson` (default: the repository's; none outside a checkout).</summary>
    public static IReadOnlyList<PinnedDataFile> Read(string? environmentJson = null)
    {
        environmentJson ??= EnvironmentJson;
        if (environmentJson is null) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(environmentJson));
        if (!doc.RootElement.TryGetProperty("datasets", out var datasets)) return [];
        var pins = new List<PinnedDataFile>();
        foreach (var dataset in datasets.EnumerateObject())
            foreach (var file in dataset.Value.EnumerateObject())
            {
                var sha = file.Value.TryGetProperty("sha256", out var s) ? s.GetString() : null;
                if (string.IsNullOrEmpty(sha))
                    throw new InvalidDataException($"{environmentJson}: datasets.{dataset.Name}.{file.Name} has no sha256.");
                var md5 = file.Value.TryGetProperty("official_md5", out var m) ? m.GetString() : null;
                pins.Add(new PinnedDataFile(dataset.Name, file.Name, sha.ToLowerInvariant(), md5?.ToLowerInvariant()));
            }
        return pins;
    }

    /// <summary>Checks every pinned file found under `paths` (missing ones included, as Missing).</summary>
    public static IReadOnlyList<DataFileCheck> CheckAll(DataPaths paths, string? environmentJson = null) =>
        Read(environmentJson).Select(pin => Check(pin, paths.TryFind(pin.RelativePath))).ToArray();

    /// <summary>
    /// Checks the file at `path` against `pin`: for a zip first its integrity (central directory, then every entry
    /// decompressed to its length with the CRC-32 the directory records), then SHA-256 against the pin and, when that
    /// differs, MD5 against the official file. `sha256` skips hashing when the caller has it already.
    /// </summary>
    public static DataFileCheck Check(PinnedDataFile pin, string? path, string? sha256 = null)
    {
        if (path is null || !File.Exists(path))
            return new DataFileCheck(pin, path, DataFileState.Missing, null, $"{pin.RelativePath} is missing: {pin.HowToGet}.");
        if (pin.IsZip && ZipDamage(path) is { } damage)
            return new DataFileCheck(pin, path, DataFileState.Damaged, null,
                $"{path} is a damaged zip ({damage}): delete it and {pin.HowToGet}.");
        sha256 ??= TensorCache.Sha256(path);
        if (sha256 == pin.Sha256)
            return new DataFileCheck(pin, path, DataFileState.Pinned, sha256, $"{path}: the pinned copy (SHA-256 {Short(sha256)} as environment.json)");
        if (pin.OfficialMd5 is { } official && Download.Md5(path) == official)
            return new DataFileCheck(pin, path, DataFileState.Official, sha256, $"{path}: the official file (MD5 {official}); environment.json pins another copy of the same drawings");
        return new DataFileCheck(pin, path, DataFileState.Differs, sha256,
            $"{path} differs from the pinned copy: SHA-256 {sha256}, environment.json expects {pin.Sha256}" +
            (pin.OfficialMd5 is { } md5 ? $" (nor is it the official file, MD5 {md5})" : "") +
            $"; results may differ from the repository's. To fix: {pin.HowToGet}.");
    }

    /// <summary>The pin of the file at `relativePath` under a data root (e.g. omniglot/images_background.zip), or null.</summary>
    public static PinnedDataFile? For(string relativePath) =>
        Read().FirstOrDefault(p => p.RelativePath == relativePath.Replace('\\', '/'));

    /// <summary>
    /// For a loader that has hashed a dataset file anyway: a warning when the file is pinned and is neither the pinned
    /// copy nor the official one (or is a damaged zip), else null. A broken environment.json is a warning too (the
    /// loader goes on).
    /// </summary>
    public static string? WarnIfUnpinned(string relativePath, string path, string sha256)
    {
        PinnedDataFile? pin;
        try { pin = For(relativePath); }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException) { return $"{EnvironmentJson}: cannot read its dataset pins ({e.Message})."; }
        if (pin is null || sha256 == pin.Sha256) return null;   // the common case costs nothing more
        var check = Check(pin, path, sha256);
        return check.Ok ? null : $"Warning: {check.Message}";
    }

    /// <summary>Null for an intact zip; otherwise what is wrong (unreadable central directory, a short entry, a CRC-32 mismatch).</summary>
    public static string? ZipDamage(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var buffer = new byte[1 << 16];
            foreach (var entry in zip.Entries)
            {
                nuint crc = 0;
                long read = 0;
                using (var stream = entry.Open())
                    for (int n; (n = stream.Read(buffer)) > 0; read += n) crc = Crc32(crc, buffer, (uint)n);
                if (read != entry.Length) return $"{entry.FullName}: {read:N0} bytes, the directory says {entry.Length:N0}";
                if ((uint)crc != entry.Crc32) return $"{entry.FullName}: CRC-32 {(uint)crc:x8}, the directory says {entry.Crc32:x8}";
            }
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            return e.Message.TrimEnd('.');
        }
    }

    // ZipArchive does not check entries' CRC-32 when reading; zlib (which libpng, and so the native layer, links) computes it.
    [LibraryImport("libz.so.1", EntryPoint = "crc32")]
    private static partial nuint Crc32(nuint crc, [In] byte[] buffer, uint length);

    private static string Short(string hash) => hash[..12] + "…";
}
