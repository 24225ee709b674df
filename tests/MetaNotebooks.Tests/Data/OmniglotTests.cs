using System.IO.Compression;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>Omniglot from the official layout in data/ or ../shared/data (the cache is built once per run, or reused).</summary>
[Collection(OmniglotCollection.Name)]
public class OmniglotTests(OmniglotFixture fixture)
{
    private const string Bg = OmniglotFixture.Background, Ev = OmniglotFixture.Evaluation;

    // images_background/Alphabet_of_the_Magi/character01/0709_01.png through Pillow 9.4:
    // 255 − convert('L').resize((28, 28), LANCZOS), row by row.
    private const string KnownLanczos =
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000010100000000000000000000000101010101000000000000000000000000030100000000000000000000000000000000000000" +
        "000000000103000000010000000000000000030506030300000000000000040072f6ec9a06000100000000020026f6ebe6f3f6a000030000" +
        "00000200346d80f8b70f02010000000100136dc6f06b6d42000100000000000000000049ff4f00040000000000010087dd00000000000000" +
        "0000000002070448fd60000400000000000204c8b90409060000000000000000000301a0fe98000400000000000100e08e00000000000000" +
        "00000000020111f1ff97000400000000000100da970072860002000000000000040062f7e99f000400000000000100de99008aa300020000" +
        "000000020215f791b9ab010803000000020023fc5c000000000000000000000300b4f40cc4a4000000000000000054fe1b00030200000000" +
        "000003006bff5000caffcfa8b6eaeaeaebe9f8fa0b0101000000000000000300bfffde60407cbaccc8888081807f7d580101000000000000" +
        "0000010115629127000000000000000000000000000000000000000000000000000000000304030303040404040404030000000000000000" +
        "0000000001040401000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

    [RequiresDataFact(Bg, Ev)]
    public void CountsMatchTheDataset()
    {
        var o = fixture.Omniglot;
        Assert.Equal(1623, o.Characters.Count);
        Assert.All(o.Characters, c => Assert.Equal(20, c.Count));
        Assert.Equal(32460, o.ImageCount);
        Assert.Equal(new long[] { 32460, 1, 28, 28 }, o.Images.shape);
        Assert.Equal(964, o.Characters.Count(c => c.Set == "images_background"));
        Assert.Equal(659, o.Characters.Count(c => c.Set == "images_evaluation"));
        Assert.Equal(30, o.Characters.Where(c => c.Set == "images_background").Select(c => c.Alphabet).Distinct().Count());
        Assert.Equal(20, o.Characters.Where(c => c.Set == "images_evaluation").Select(c => c.Alphabet).Distinct().Count());
        // Character IDs are 1…1623 and drawers 01…20, as the file names say.
        Assert.Equal(Enumerable.Range(1, 1623), o.Characters.Select(c => c.Id).Order());
        Assert.All(o.Characters, c => Assert.Equal(Enumerable.Range(1, 20).Select(d => $"{c.Id:D4}_{d:D2}.png"), c.Files));
    }

    [RequiresDataFact(Bg, Ev)]
    public void ValuesAreInkOnABlankBackground()
    {
        using var scope = NewDisposeScope();
        var images = fixture.Omniglot.Images;
        Assert.Equal(ScalarType.Byte, images.dtype);
        Assert.Equal(0, images.min().item<int>());
        Assert.Equal(255, images.max().item<int>());
        // Strokes are thin: most of each image is background (0), and every drawing has some ink.
        var mean = images.to(ScalarType.Float32).mean().item<float>() / 255;
        Assert.InRange(mean, 0.05, 0.25);
        var inkPerImage = images.to(ScalarType.Float32).sum([1, 2, 3]);
        Assert.True(inkPerImage.min().item<float>() > 0);
        // The split datasets are model input: float32 in [0, 1], strokes 1.
        var train = fixture.Vinyals("train");
        Assert.Equal(ScalarType.Float32, train.Images.dtype);
        Assert.Equal(0f, train.Images.min().item<float>());
        Assert.Equal(1f, train.Images.max().item<float>());
    }

    [RequiresDataFact(Bg, Ev)]
    public void AKnownDrawingHasPillowsPixels()
    {
        using var scope = NewDisposeScope();
        var o = fixture.Omniglot;
        Assert.Equal(ResizeFilter.Lanczos, o.Options.Filter);
        var c = o.Character("Alphabet_of_the_Magi/character01");
        Assert.Equal(709, c.Id);
        Assert.Equal("0709_01.png", c.Files[0]);
        var pixels = o.Images.narrow(0, c.First, 1).ToArray<byte>();
        Assert.Equal(Convert.FromHexString(KnownLanczos), pixels);

        // The PNG itself: 105×105, 1-bit, 905 black (stroke) pixels and 10,120 white ones.
        using var zip = ZipFile.OpenRead(DataPaths.Default.Find(Bg, ""));
        using var stream = zip.GetEntry("images_background/Alphabet_of_the_Magi/character01/0709_01.png")!.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var raw = io.decode_png(buffer.ToArray());
        Assert.Equal(new long[] { 1, 105, 105 }, raw.shape);
        var values = raw.ToArray<byte>();
        Assert.Equal(905, values.Count(v => v == 0));
        Assert.Equal(10120, values.Count(v => v == 255));
    }

    [RequiresDataFact(Bg, Ev)]
    public void VinyalsSplitsHaveThePublishedSizes()
    {
        foreach (var (part, classes) in new[] { ("train", 4112), ("val", 688), ("test", 1692) })
        {
            var d = fixture.Vinyals(part);
            Assert.Equal(classes, d.ClassCount);
            Assert.Equal(classes * 20, d.ImageCount);
            Assert.Equal(new long[] { 1, 28, 28 }, d.ImageShape);
            Assert.Equal(20, d.MinClassSize);
        }
    }

    [RequiresDataFact(Bg, Ev)]
    public void NoCharacterIsInTwoSplits()
    {
        static HashSet<string> Characters(ClassIndexedDataset d) => d.ClassNames.Select(n => n[..n.LastIndexOf('/')]).ToHashSet();
        var train = Characters(fixture.Vinyals("train"));
        var val = Characters(fixture.Vinyals("val"));
        var test = Characters(fixture.Vinyals("test"));
        Assert.Equal((1028, 172, 423), (train.Count, val.Count, test.Count));
        Assert.Empty(train.Intersect(val));
        Assert.Empty(train.Intersect(test));
        Assert.Empty(val.Intersect(test));
        Assert.Equal(1623, train.Union(val).Union(test).Count());

        var o = fixture.Omniglot;
        using var mamlTrain = o.Maml("train");
        using var mamlVal = o.Maml("val");
        using var mamlTest = o.Maml("test");
        Assert.Equal((1100, 100, 423), (mamlTrain.ClassCount, mamlVal.ClassCount, mamlTest.ClassCount));
        Assert.Equal(1623, mamlTrain.ClassNames.Concat(mamlVal.ClassNames).Concat(mamlTest.ClassNames).Distinct().Count());
        using var again = o.Maml("train");
        Assert.Equal(mamlTrain.ClassNames, again.ClassNames);
        using var otherSeed = o.Maml("train", seed: 2);
        Assert.NotEqual(mamlTrain.ClassNames.Order(), otherSeed.ClassNames.Order());

        using var background = o.Lake("background");
        using var evaluation = o.Lake("evaluation");
        Assert.Equal((964, 659), (background.ClassCount, evaluation.ClassCount));
        Assert.Empty(background.ClassNames.Intersect(evaluation.ClassNames));
    }

    [RequiresDataFact(Bg, Ev)]
    public void RotatedClassesAreQuarterTurnsOfTheUprightOne()
    {
        using var scope = NewDisposeScope();
        var train = fixture.Vinyals("train");
        var names = train.ClassNames.ToList();
        var upright = names.IndexOf("Angelic/character01/rot000");
        Assert.True(upright >= 0);
        for (var k = 1; k < 4; k++)
        {
            var rotated = names.IndexOf($"Angelic/character01/rot{k * 90:D3}");
            Assert.True(equal(train.ClassImages(upright).rot90(k, 2, 3), train.ClassImages(rotated)));
        }
        // And the upright class is the cached drawings / 255.
        var c = fixture.Omniglot.Character("Angelic/character01");
        var cached = fixture.Omniglot.Images.narrow(0, c.First, c.Count).to(ScalarType.Float32) / 255;
        Assert.True(allclose(cached, train.ClassImages(upright)));
    }

    [RequiresDataFact(Bg, Ev)]
    public void ASecondLoadComesFromTheCache()
    {
        var first = fixture.Omniglot;
        using var second = Omniglot.Load();
        Assert.True(second.LoadedFromCache);
        Assert.Equal(first.CachePath, second.CachePath);
        Assert.True(equal(first.Images, second.Images));
    }

    [RequiresDataFact(Bg, Ev)]
    public void EpisodesFromTheVinyalsSplit()
    {
        using var scope = NewDisposeScope();
        using var sampler = new EpisodeSampler(fixture.Vinyals("train"), 20, 5, 15, seed: 7);
        using var batch = sampler.Sample(4);
        Assert.Equal(new long[] { 4, 100, 1, 28, 28 }, batch.SupportInputs.shape);
        Assert.Equal(new long[] { 4, 300, 1, 28, 28 }, batch.QueryInputs.shape);
        Assert.InRange(batch.QueryInputs.max().item<float>(), 0.5f, 1f);
        Assert.Equal(0f, batch.QueryInputs.min().item<float>());
    }
}
