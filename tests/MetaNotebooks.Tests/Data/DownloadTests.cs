using System.Net;
using System.Security.Cryptography;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>The downloader after the network read, on bytes the tests serve through their own HTTP handler.</summary>
public class DownloadTests
{
    private sealed class Serve(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public int Requests { get; private set; }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            return respond(request);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }

    private static readonly byte[] Payload = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7 % 251)).ToArray();
    private static readonly DownloadFile File1 = new("https://example.org/set.zip", "things/set.zip", Convert.ToHexStringLower(MD5.HashData(Payload)));

    private static Serve Bytes(byte[] body) => new(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) });

    private static string[] Leftovers(TempDirectory dir) =>
        Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories).Where(f => f.Contains(".download-")).ToArray();

    [Fact]
    public void ADownloadIsCheckedAndRenamedIntoPlace()
    {
        using var dir = new TempDirectory();
        var server = Bytes(Payload);
        Assert.Equal(Download.Outcome.Downloaded, Download.Fetch(File1, dir.Path, server));
        Assert.Equal(Payload, File.ReadAllBytes(dir.File("things/set.zip")));
        Assert.Empty(Leftovers(dir));
        // Present with the right MD5: nothing fetched again.
        Assert.Equal(Download.Outcome.AlreadyPresent, Download.Fetch(File1, dir.Path, server));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void AWrongChecksumLeavesNothingBehind()
    {
        using var dir = new TempDirectory();
        var damaged = (byte[])Payload.Clone();
        damaged[1234] ^= 1;
        var e = Assert.Throws<IOException>(() => Download.Fetch(File1, dir.Path, Bytes(damaged)));
        Assert.Contains("MD5", e.Message);
        Assert.Contains(File1.Md5, e.Message);
        Assert.False(File.Exists(dir.File("things/set.zip")));
        Assert.Empty(Leftovers(dir));
    }

    [Fact]
    public void NoNetworkIsAClearError()
    {
        using var dir = new TempDirectory();
        var offline = new Serve(_ => throw new HttpRequestException("Name or service not known (github.com:443)"));
        var e = Assert.Throws<IOException>(() => Download.Fetch(Download.Omniglot[0], dir.Path, offline));
        Assert.Contains("Could not download https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip", e.Message);
        Assert.Contains("Name or service not known", e.Message);
        Assert.Contains(dir.File("omniglot/images_background.zip"), e.Message);
        Assert.Contains("MN_DATA", e.Message);
        Assert.Empty(Leftovers(dir));
    }

    [Fact]
    public void AnHttpErrorIsAClearError()
    {
        using var dir = new TempDirectory();
        var missing = new Serve(_ => new HttpResponseMessage(HttpStatusCode.NotFound));
        var e = Assert.Throws<IOException>(() => Download.Fetch(File1, dir.Path, missing));
        Assert.Contains("HTTP 404", e.Message);
        Assert.False(File.Exists(dir.File("things/set.zip")));
    }

    [Fact]
    public void AnotherCopyIsKeptUnlessForced()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("things"));
        File.WriteAllBytes(dir.File("things/set.zip"), [1, 2, 3]);
        var server = Bytes(Payload);
        Assert.Equal(Download.Outcome.KeptExisting, Download.Fetch(File1, dir.Path, server));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(dir.File("things/set.zip")));
        Assert.Equal(0, server.Requests);
        Assert.Equal(Download.Outcome.Downloaded, Download.Fetch(File1, dir.Path, server, force: true));
        Assert.Equal(Payload, File.ReadAllBytes(dir.File("things/set.zip")));
    }

    [Fact]
    public void TheOfficialOmniglotFilesAndChecksums()
    {
        Assert.Equal(
            [
                ("https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip", "omniglot/images_background.zip", "68d2efa1b9178cc56df9314c21c6e718"),
                ("https://github.com/brendenlake/omniglot/raw/master/python/images_evaluation.zip", "omniglot/images_evaluation.zip", "6b91aef0f799c5bb55b94e3f2daec811"),
            ],
            Download.Omniglot.Select(f => (f.Url, f.RelativePath, f.Md5)));
    }
}
