using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>Loading, caching and error paths on tiny Omniglot-layout zips the tests write (fast, no real data needed).</summary>
public class OmniglotCacheTests
{
    [Fact]
    public void ReadsTheOfficialLayout()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        using var o = Omniglot.Load(paths: dir.DataPaths);
        Assert.False(o.LoadedFromCache);
        Assert.Equal(["Alpha/character01", "Alpha/character02", "Beta/character01"], o.Characters.Select(c => c.Name));
        Assert.Equal(["images_background", "images_background", "images_evaluation"], o.Characters.Select(c => c.Set));
        Assert.Equal([1, 2, 3], o.Characters.Select(c => c.Id));
        Assert.Equal(new long[] { 6, 1, 28, 28 }, o.Images.shape);
        using var scope = NewDisposeScope();
        // Drawings 0 and 1 are the same cross, 2 and 3 the same ring; a cross is not a ring.
        Assert.True(equal(o.Images.narrow(0, 0, 1), o.Images.narrow(0, 1, 1)));
        Assert.True(equal(o.Images.narrow(0, 2, 1), o.Images.narrow(0, 3, 1)));
        Assert.False(equal(o.Images.narrow(0, 0, 1), o.Images.narrow(0, 2, 1)));
        // Strokes high: the cross's centre is ink, its corner background.
        var cross = o.Images.narrow(0, 0, 1).ToArray<byte>();
        Assert.Equal(255, cross[14 * 28 + 14]);
        Assert.Equal(0, cross[0]);
        using var lake = o.Lake("evaluation");
        Assert.Equal(["Beta/character01"], lake.ClassNames);
    }

    [Fact]
    public void TheCacheIsReusedAndKeyedByOptions()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        using var first = Omniglot.Load(paths: dir.DataPaths);
        using var again = Omniglot.Load(paths: dir.DataPaths);
        Assert.False(first.LoadedFromCache);
        Assert.True(again.LoadedFromCache);
        Assert.Equal(first.CachePath, again.CachePath);

        // Another filter or size: another key, so a fresh build into another file; the first cache stays valid.
        using var nearest = Omniglot.Load(new OmniglotOptions { Filter = ResizeFilter.Nearest }, dir.DataPaths);
        Assert.False(nearest.LoadedFromCache);
        Assert.NotEqual(first.CachePath, nearest.CachePath);
        using var scope = NewDisposeScope();
        Assert.False(equal(first.Images, nearest.Images));
        // Nearest keeps the drawings binary.
        Assert.All(nearest.Images.ToArray<byte>(), v => Assert.True(v is 0 or 255));
        using var small = Omniglot.Load(new OmniglotOptions { ImageSize = 14 }, dir.DataPaths);
        Assert.False(small.LoadedFromCache);
        Assert.Equal(new long[] { 6, 1, 14, 14 }, small.Images.shape);
        using var back = Omniglot.Load(paths: dir.DataPaths);
        Assert.True(back.LoadedFromCache);
        Assert.True(equal(first.Images, back.Images));
    }

    [Fact]
    public void ChangedSourcesInvalidateTheCache()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        using var first = Omniglot.Load(paths: dir.DataPaths);
        TinyOmniglot.Write(dir.Path, extraDrawing: true);
        using var second = Omniglot.Load(paths: dir.DataPaths);
        Assert.False(second.LoadedFromCache);
        Assert.NotEqual(first.CachePath, second.CachePath);
        Assert.Equal(7, second.ImageCount);
        Assert.Equal(3, second.Character("Beta/character01").Count);
    }

    [Theory]
    [InlineData("tensor-flipped-byte")]
    [InlineData("tensor-truncated")]
    [InlineData("index-truncated")]
    [InlineData("index-other-key")]
    [InlineData("tensor-missing")]
    public void ADamagedCacheIsDetectedAndRebuilt(string damage)
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        string tensorFile, indexFile;
        byte[] good;
        using (var first = Omniglot.Load(paths: dir.DataPaths))
        {
            tensorFile = first.CachePath;
            indexFile = Path.ChangeExtension(tensorFile, ".json");
            good = first.Images.ToArray<byte>();
        }
        var tensorBytes = File.ReadAllBytes(tensorFile);
        switch (damage)
        {
            case "tensor-flipped-byte": tensorBytes[tensorBytes.Length / 2] ^= 0x40; File.WriteAllBytes(tensorFile, tensorBytes); break;
            case "tensor-truncated": File.WriteAllBytes(tensorFile, tensorBytes[..(tensorBytes.Length / 3)]); break;
            case "index-truncated": File.WriteAllText(indexFile, File.ReadAllText(indexFile)[..100]); break;
            case "index-other-key": File.WriteAllText(indexFile, File.ReadAllText(indexFile).Replace("\"key\": \"", "\"key\": \"0")); break;
            case "tensor-missing": File.Delete(tensorFile); break;
        }
        var log = new StringWriter();
        using (var rebuilt = Omniglot.Load(paths: dir.DataPaths, log: log))
        {
            Assert.False(rebuilt.LoadedFromCache);
            Assert.Equal(good, rebuilt.Images.ToArray<byte>());
        }
        Assert.Contains("damaged", log.ToString());
        using var healed = Omniglot.Load(paths: dir.DataPaths);
        Assert.True(healed.LoadedFromCache);
    }

    [Fact]
    public void ACorruptZipIsAClearError()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var zip = dir.File("omniglot/images_background.zip");
        var bytes = File.ReadAllBytes(zip);
        File.WriteAllBytes(zip, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Omniglot.Load(paths: dir.DataPaths));
        Assert.Contains("images_background.zip is not a readable zip", e.Message);
        Assert.Contains("./mn data download omniglot", e.Message);
    }

    [Fact]
    public void ACorruptPngIsAClearError()
    {
        using var dir = new TempDirectory();
        var damaged = (byte[])TinyOmniglot.Ring.Clone();
        damaged[damaged.Length - 30] ^= 0xFF; // inside the compressed image data
        TinyOmniglot.Write(dir.Path, corrupt: damaged);
        var e = Assert.Throws<InvalidDataException>(() => Omniglot.Load(paths: dir.DataPaths));
        Assert.Contains("Alpha/character02/0002_02.png", e.Message);
        Assert.Contains("libpng", e.Message);

        TinyOmniglot.Write(dir.Path, corrupt: TinyOmniglot.Ring[..60]);
        e = Assert.Throws<InvalidDataException>(() => Omniglot.Load(paths: dir.DataPaths));
        Assert.Contains("0002_02.png", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MissingDataNamesTheFileThePlacesAndTheCommand()
    {
        using var dir = new TempDirectory();
        var paths = new DataPaths([new DataPaths.Root(dir.File("first"), "--data"), new DataPaths.Root(dir.File("second"), "the repository's data/")], dir.File("cache"));
        var e = Assert.Throws<DataNotFoundException>(() => Omniglot.Load(paths: paths));
        Assert.Contains("omniglot/images_background.zip", e.Message);
        Assert.Contains(Path.Combine(dir.File("first"), "omniglot", "images_background.zip"), e.Message);
        Assert.Contains(Path.Combine(dir.File("second"), "omniglot", "images_background.zip"), e.Message);
        Assert.Contains("./mn data download omniglot", e.Message);
    }

    [Fact]
    public void ExtractedFoldersWorkToo()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        foreach (var set in Omniglot.Sets)
        {
            var zip = dir.File($"omniglot/{set}.zip");
            System.IO.Compression.ZipFile.ExtractToDirectory(zip, dir.File("omniglot"));
            File.Delete(zip);
        }
        using var o = Omniglot.Load(paths: dir.DataPaths);
        Assert.Equal(3, o.Characters.Count);
        Assert.Equal(6, o.ImageCount);
        using var again = Omniglot.Load(paths: dir.DataPaths);
        Assert.True(again.LoadedFromCache);
    }
}
