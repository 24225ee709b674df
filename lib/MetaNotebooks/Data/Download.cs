using System.Security.Cryptography;

namespace MetaNotebooks.Data;

/// <summary>A dataset file with an official address and checksum.</summary>
public sealed record DownloadFile(string Url, string RelativePath, string Md5);

/// <summary>
/// Fetches official dataset files: streamed to a temporary file beside the target, checked against the official MD5,
/// then renamed into place, so a target is either absent or complete and verified. The HTTP handler can be injected
/// (tests serve their own bytes); everything after the network read is the same code either way.
/// </summary>
public static class Download
{
    /// <summary>The official Omniglot zips (brendenlake/omniglot, python/), with the MD5s torchvision also records.</summary>
    public static readonly DownloadFile[] Omniglot =
    [
        new("https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip", "omniglot/images_background.zip", "68d2efa1b9178cc56df9314c21c6e718"),
        new("https://github.com/brendenlake/omniglot/raw/master/python/images_evaluation.zip", "omniglot/images_evaluation.zip", "6b91aef0f799c5bb55b94e3f2daec811"),
    ];

    /// <summary>What <see cref="Fetch"/> did.</summary>
    public enum Outcome { Downloaded, AlreadyPresent, KeptExisting }

    /// <summary>
    /// Downloads `file` to `root`/RelativePath. An existing file with the right MD5 is kept (AlreadyPresent); one with
    /// another MD5 (e.g. a rebuilt copy with the same pixels) is kept unless `force` (KeptExisting). A network error,
    /// an HTTP error status or a checksum mismatch raises an <see cref="IOException"/> saying what to do instead;
    /// no partial file is left behind.
    /// </summary>
    public static Outcome Fetch(DownloadFile file, string root, HttpMessageHandler? handler = null, bool force = false, TextWriter? log = null)
    {
        var target = Path.GetFullPath(Path.Combine(root, file.RelativePath));
        if (File.Exists(target))
        {
            if (Md5(target) == file.Md5) { log?.WriteLine($"{target}: present, MD5 {file.Md5} matches."); return Outcome.AlreadyPresent; }
            if (!force)
            {
                log?.WriteLine($"{target}: present but not the official file (MD5 differs); kept. Use --force to replace it.");
                return Outcome.KeptExisting;
            }
        }
        log?.WriteLine($"Downloading {file.Url} …");
        using var client = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(20) }, disposeHandler: handler is null)
        {
            Timeout = TimeSpan.FromMinutes(10),
        };
        HttpResponseMessage response;
        try
        {
            response = client.Send(new HttpRequestMessage(HttpMethod.Get, file.Url), HttpCompletionOption.ResponseHeadersRead);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            var why = e.InnerException is { } inner && !e.Message.Contains(inner.Message) ? $"{e.Message} ({inner.Message})" : e.Message;
            throw new IOException($"Could not download {file.Url}: {why.TrimEnd('.')}.\n{ByHand(file, target)}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new IOException($"Could not download {file.Url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.\n{ByHand(file, target)}");
            using var body = response.Content.ReadAsStream();
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Store(body, file, target);
        }
        log?.WriteLine($"{target}: downloaded, MD5 {file.Md5} verified.");
        return Outcome.Downloaded;
    }

    /// <summary>Copies `content` to a temporary file, checks its MD5 against `file.Md5`, renames it to `target`.</summary>
    public static void Store(Stream content, DownloadFile file, string target)
    {
        var tmp = $"{target}.download-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            string md5;
            using (var output = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = content.Read(buffer)) > 0)
                {
                    hash.AppendData(buffer.AsSpan(0, n));
                    output.Write(buffer.AsSpan(0, n));
                }
                output.Flush(flushToDisk: true);
                md5 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (md5 != file.Md5)
                throw new IOException($"{file.Url} arrived with MD5 {md5}, not the official {file.Md5} (a truncated or altered download); nothing was written. Try again.");
            File.Move(tmp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static string Md5(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    private static string ByHand(DownloadFile file, string target) =>
        $"Where this machine cannot reach it, download {file.Url} elsewhere (MD5 {file.Md5}) and copy it to {target}, " +
        $"or pass --data / set {DataPaths.DataEnvironmentVariable} to a folder that holds {file.RelativePath}.";
}
