using System.IO.Compression;
using System.Security.Cryptography;
using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>Dataset files against environment.json's pins, on data folders and environment.json files the tests make.</summary>
public class PinnedDataFilesTests
{
    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
    private static string Md5(string path) => Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(path)));

    private static PinnedDataFile Pin(string sha256, string? md5 = null) => new("omniglot", "images_background.zip", sha256, md5);

    /// <summary>An environment.json that pins the two tiny zips (or `backgroundSha` for the first) and one CSV.</summary>
    private static string WriteEnvironment(TempDirectory dir, string backgroundSha, string evaluationSha, string csvSha) =>
        WriteText(dir.File("environment.json"), $$"""
            { "dotnet": { "sdk": "10.0" },
              "datasets": {
                "omniglot": {
                  "images_background.zip": { "sha256": "{{backgroundSha}}", "official_md5": "00000000000000000000000000000000" },
                  "images_evaluation.zip": { "sha256": "{{evaluationSha}}" } },
                "mini-imagenet": { "test.csv": { "sha256": "{{csvSha}}" } } } }
            """);

    private static string WriteText(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void EnvironmentJsonPinsAreReadOnce()
    {
        using var dir = new TempDirectory();
        var env = WriteEnvironment(dir, new string('a', 64), new string('b', 64), new string('C', 64));
        var pins = PinnedDataFiles.Read(env);
        Assert.Equal(["omniglot/images_background.zip", "omniglot/images_evaluation.zip", "mini-imagenet/test.csv"], pins.Select(p => p.RelativePath));
        Assert.Equal("00000000000000000000000000000000", pins[0].OfficialMd5);
        Assert.Null(pins[1].OfficialMd5);
        Assert.Equal(new string('c', 64), pins[2].Sha256);   // compared lower-case
        Assert.True(pins[0].IsZip);
        Assert.False(pins[2].IsZip);
    }

    [Fact]
    public void TheRepositoryPinsTheOmniglotZipsAndMiniImageNetCsvs()
    {
        var pins = PinnedDataFiles.Read();
        Assert.Contains(pins, p => p.RelativePath == "omniglot/images_background.zip" && p.OfficialMd5 == Download.Omniglot[0].Md5);
        Assert.Contains(pins, p => p.RelativePath == "omniglot/images_evaluation.zip" && p.OfficialMd5 == Download.Omniglot[1].Md5);
        foreach (var split in MiniImageNet.Splits) Assert.Contains(pins, p => p.RelativePath == $"mini-imagenet/{split}.csv" && p.Sha256.Length == 64);
    }

    [Fact]
    public void AnIntactZipMatchingItsPinIsOk()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var zip = dir.File("omniglot/images_background.zip");
        var check = PinnedDataFiles.Check(Pin(Sha256(zip)), zip);
        Assert.Equal(DataFileState.Pinned, check.State);
        Assert.True(check.Ok);
        Assert.Equal(DataFileState.Official, PinnedDataFiles.Check(Pin(new string('0', 64), Md5(zip)), zip).State);
    }

    [Fact]
    public void ATruncatedZipIsDamagedNotFineForReading()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var zip = dir.File("omniglot/images_background.zip");
        var sha = Sha256(zip);
        var bytes = File.ReadAllBytes(zip);
        File.WriteAllBytes(zip, bytes[..(bytes.Length / 2)]);
        var check = PinnedDataFiles.Check(Pin(sha), zip);
        Assert.Equal(DataFileState.Damaged, check.State);
        Assert.False(check.Ok);
        Assert.Contains(zip, check.Message);
        Assert.Contains("./mn data download omniglot --force", check.Message);
    }

    [Fact]
    public void AnEntryWhoseBytesNoLongerMatchItsCrcIsDamaged()
    {
        using var dir = new TempDirectory();
        var zip = dir.File("omniglot/images_background.zip");
        Directory.CreateDirectory(Path.GetDirectoryName(zip)!);
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var s = archive.CreateEntry("images_background/A/character01/0001_01.png", CompressionLevel.NoCompression).Open())
            s.Write(TinyOmniglot.Cross);
        Assert.Null(PinnedDataFiles.ZipDamage(zip));
        var bytes = File.ReadAllBytes(zip);
        var at = bytes.AsSpan().IndexOf(TinyOmniglot.Cross.AsSpan(0, 16)) + 100;   // inside the stored PNG
        bytes[at] ^= 0xFF;
        File.WriteAllBytes(zip, bytes);
        var damage = PinnedDataFiles.ZipDamage(zip);
        Assert.NotNull(damage);
        Assert.Contains("CRC-32", damage);
        Assert.Equal(DataFileState.Damaged, PinnedDataFiles.Check(Pin(new string('0', 64)), zip).State);
    }

    [Fact]
    public void AFileWithAnotherHashIsReportedWithExpectedActualAndTheFix()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var zip = dir.File("omniglot/images_background.zip");
        var wanted = new string('a', 64);
        var check = PinnedDataFiles.Check(Pin(wanted, new string('f', 32)), zip);
        Assert.Equal(DataFileState.Differs, check.State);
        Assert.Contains(zip, check.Message);
        Assert.Contains(wanted, check.Message);
        Assert.Contains(Sha256(zip), check.Message);
        Assert.Contains(new string('f', 32), check.Message);
        Assert.Contains("./mn data download omniglot --force", check.Message);

        var csv = WriteText(dir.File("mini-imagenet/test.csv"), "filename,label\n");
        var csvCheck = PinnedDataFiles.Check(new PinnedDataFile("mini-imagenet", "test.csv", wanted, null), csv);
        Assert.Equal(DataFileState.Differs, csvCheck.State);
        Assert.Contains("data/README.md", csvCheck.Message);
    }

    [Fact]
    public void CheckAllFindsEachPinnedFileUnderTheDataRoots()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        TinyOmniglot.Write(data);
        var background = Path.Combine(data, "omniglot", "images_background.zip");
        var csv = WriteText(Path.Combine(data, "mini-imagenet", "test.csv"), "filename,label\n");
        var env = WriteEnvironment(dir, Sha256(background), new string('e', 64), Sha256(csv));
        File.WriteAllBytes(Path.Combine(data, "omniglot", "images_evaluation.zip"), [0x50, 0x4B, 0x03]);   // a stub, not a zip
        var paths = new DataPaths([new DataPaths.Root(data, "test")], Path.Combine(dir.Path, "cache"));
        var checks = PinnedDataFiles.CheckAll(paths, env);
        Assert.Equal([DataFileState.Pinned, DataFileState.Damaged, DataFileState.Pinned], checks.Select(c => c.State));
        File.Delete(csv);
        Assert.Equal(DataFileState.Missing, PinnedDataFiles.CheckAll(paths, env)[2].State);
    }

    [Fact]
    public void TheOmniglotLoaderWarnsAboutACopyThatIsNeitherPinnedNorOfficial()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var log = new StringWriter();
        using (Omniglot.Load(null, dir.DataPaths, log)) { }
        var zip = dir.File("omniglot/images_background.zip");
        Assert.Contains($"Omniglot: Warning: {zip} differs from the pinned copy: SHA-256 {Sha256(zip)}", log.ToString());
        Assert.Contains(PinnedDataFiles.For("omniglot/images_background.zip")!.Sha256, log.ToString());
    }

    [Fact]
    public void DataStatusAndVerifyReportADamagedZip()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var zip = dir.File("omniglot/images_background.zip");
        var bytes = File.ReadAllBytes(zip);
        File.WriteAllBytes(zip, bytes[..(bytes.Length - 30)]);   // cut into the central directory's end record
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        int status, verify;
        try
        {
            status = new DataCommand().Run(["status", "--data", dir.Path]);
            verify = new DataCommand().Run(["verify", "--data", dir.Path]);
        }
        finally
        {
            Console.SetOut(previous);
        }
        var text = output.ToString();
        Assert.Equal(0, status);
        Assert.Equal(1, verify);
        Assert.DoesNotContain("fine for reading", text);
        Assert.Contains($"DAMAGED:\n      {zip} is a damaged zip", text);
        Assert.Contains($"damaged  {zip} is a damaged zip", text);
        // The intact evaluation zip is readable, but it is not the copy environment.json pins.
        Assert.Contains("DIFFERS", text);
    }
}
