using System.Diagnostics;
using MetaNotebooks.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Data;

/// <summary>A test that needs a program on the PATH: skipped, with the reason and the package to install, when it is absent.</summary>
public sealed class RequiresProgramFactAttribute : FactAttribute
{
    public RequiresProgramFactAttribute(string program, string debianPackage, params string[] dataFiles)
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));
        var paths = DataPaths.Default;
        var missing = dataFiles.Where(f => paths.TryFind(f) is null).ToArray();
        if (!onPath) Skip = $"needs {program} (apt-get install {debianPackage}; `./mn test` installs it), not on the PATH";
        else if (missing.Length > 0) Skip = $"needs {string.Join(", ", missing)}, not found in {string.Join(" or ", paths.Roots.Select(r => r.Directory))}";
    }
}

/// <summary>
/// Our Mini-ImageNet decoding path (<see cref="MiniImageNet.Decode"/>: libjpeg-turbo through the binding) checked against
/// an independent decoder, Debian's `djpeg` (libjpeg-turbo-progs, default settings: integer DCT, fancy upsampling),
/// on real files; and its failures: a corrupt or missing JPEG is named, and nothing half-written is left in the cache.
/// </summary>
public class MiniImageNetDecodeTests(ITestOutputHelper output)
{
    private const string TestCsv = "mini-imagenet/test.csv", TrainCsv = "mini-imagenet/train.csv", Images = "mini-imagenet/images";

    /// <summary>djpeg's output for a file: a binary PPM (P6) or PGM (P5), as [C, H, W] bytes.</summary>
    private static (int Channels, int Height, int Width, byte[] Chw) Djpeg(string jpeg)
    {
        var start = new ProcessStartInfo("djpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(jpeg);
        using var process = Process.Start(start)!;
        using var buffer = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"djpeg {jpeg} failed: {error}");
        var bytes = buffer.ToArray();
        // Header: magic, width, height, maxval, each followed by one whitespace byte, then the pixels (row-major, interleaved).
        var fields = new List<string>();
        var at = 0;
        while (fields.Count < 4)
        {
            while (char.IsWhiteSpace((char)bytes[at])) at++;
            var begin = at;
            while (!char.IsWhiteSpace((char)bytes[at])) at++;
            fields.Add(System.Text.Encoding.ASCII.GetString(bytes, begin, at - begin));
        }
        at++;
        var channels = fields[0] switch { "P6" => 3, "P5" => 1, var m => throw new InvalidDataException($"djpeg wrote '{m}'") };
        var (width, height) = (int.Parse(fields[1]), int.Parse(fields[2]));
        Assert.Equal("255", fields[3]);
        Assert.Equal(at + channels * width * height, bytes.Length);
        var chw = new byte[channels * height * width];
        for (var p = 0; p < height * width; p++)
            for (var c = 0; c < channels; c++) chw[c * height * width + p] = bytes[at + p * channels + c];
        return (channels, height, width, chw);
    }

    [RequiresProgramFact("djpeg", "libjpeg-turbo-progs", TestCsv, TrainCsv, Images)]
    public void RealImagesDecodeToTheBytesDjpegWrites()
    {
        var paths = DataPaths.Default;
        var folder = paths.Find(Images, MiniImageNet.HowToGet);
        // The first and last image of each split's CSV and a few in between: several classes, both ends of the files.
        var files = new[] { TestCsv, TrainCsv }
            .SelectMany(csv => File.ReadLines(paths.Find(csv, "")).Skip(1).Where((_, i) => i % 5999 == 0).Select(l => l.Split(',')[0]))
            .Select(f => Path.Combine(folder, f)).ToArray();
        Assert.True(files.Length >= 10, $"only {files.Length} files picked");
        using var scope = NewDisposeScope();
        var ours = MiniImageNet.Decode(files);
        Assert.Equal(new long[] { files.Length, 3, 84, 84 }, ours.shape);
        for (var i = 0; i < files.Length; i++)
        {
            var (channels, height, width, chw) = Djpeg(files[i]);
            Assert.Equal((3, 84, 84), (channels, height, width));
            var mine = ours.select(0, i).contiguous().ToArray<byte>();
            var differing = mine.Zip(chw).Count(p => p.First != p.Second);
            Assert.True(differing == 0, $"{Path.GetFileName(files[i])}: {differing} of {mine.Length} bytes differ from djpeg's");
        }
        output.WriteLine($"{files.Length} images equal djpeg's output byte for byte: {string.Join(", ", files.Select(Path.GetFileName))}");
    }

    private static readonly (string File, string Label)[] Rows = [("a1.jpg", "nA"), ("a2.jpg", "nA"), ("b1.jpg", "nB"), ("b2.jpg", "nB")];

    private static void WriteSplit(TempDirectory dir, string split, IEnumerable<string> present)
    {
        Directory.CreateDirectory(dir.File("mini-imagenet/images"));
        File.WriteAllLines(dir.File($"mini-imagenet/{split}.csv"), ["filename,label", .. Rows.Select(r => $"{r.File},{r.Label}")]);
        foreach (var f in present) File.WriteAllBytes(dir.File($"mini-imagenet/images/{f}"), Convert.FromBase64String(ImageDecodeTests.RgbJpeg));
    }

    /// <summary>Files in the cache folder (none when it was never created).</summary>
    private static string[] CacheFiles(TempDirectory dir) =>
        Directory.Exists(dir.DataPaths.CacheDirectory) ? Directory.GetFiles(dir.DataPaths.CacheDirectory, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public void ACorruptJpegIsNamedAndLeavesNothingInTheCache()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "val", Rows.Select(r => r.File));
        var jpeg = Convert.FromBase64String(ImageDecodeTests.RgbJpeg);
        File.WriteAllBytes(dir.File("mini-imagenet/images/b1.jpg"), jpeg[..(jpeg.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => MiniImageNet.Load("val", paths: dir.DataPaths));
        Assert.Contains(dir.File("mini-imagenet/images/b1.jpg"), e.Message);
        Assert.Contains("Replace the file", e.Message);
        Assert.Empty(CacheFiles(dir));

        // Mended, the split loads and is cached: one tensor file and its index, no temporary file beside them.
        File.WriteAllBytes(dir.File("mini-imagenet/images/b1.jpg"), jpeg);
        using (var val = MiniImageNet.Load("val", paths: dir.DataPaths)) Assert.Equal(4, val.ImageCount);
        Assert.Equal(new[] { ".json", ".mntd" }, CacheFiles(dir).Select(f => Path.GetExtension(f)).Order().ToArray());
    }

    [Fact]
    public void AMissingJpegIsNamedAndLeavesNothingInTheCache()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "test", ["a1.jpg", "a2.jpg", "b2.jpg"]);
        var e = Assert.Throws<DataNotFoundException>(() => MiniImageNet.Load("test", paths: dir.DataPaths));
        Assert.Contains("b1.jpg", e.Message);
        Assert.Equal(dir.File("mini-imagenet/images/b1.jpg"), e.FileName);
        Assert.Empty(CacheFiles(dir));
    }

    [Fact]
    public void ATruncatedCacheFileIsRebuiltNotTrusted()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "train", Rows.Select(r => r.File));
        using (var first = MiniImageNet.Load("train", paths: dir.DataPaths)) Assert.Equal(4, first.ImageCount);
        var tensorFile = CacheFiles(dir).Single(f => f.EndsWith(".mntd"));
        var bytes = File.ReadAllBytes(tensorFile);
        File.WriteAllBytes(tensorFile, bytes[..(bytes.Length / 2)]);   // as if a write had been cut short in place
        var log = new StringWriter();
        using var again = MiniImageNet.Load("train", paths: dir.DataPaths, log: log);
        Assert.Contains("the cache is damaged", log.ToString());
        Assert.Contains("decoding 4 JPEGs", log.ToString());
        Assert.Equal(bytes.Length, new FileInfo(tensorFile).Length);
    }
}
