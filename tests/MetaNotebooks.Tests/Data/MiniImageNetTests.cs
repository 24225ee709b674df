using MetaNotebooks.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Data;

public class MiniImageNetTests(ITestOutputHelper output)
{
    private const string TestCsv = "mini-imagenet/test.csv", Images = "mini-imagenet/images";

    [RequiresDataFact(TestCsv, Images)]
    public void TheTestSplitLoads()
    {
        using var test = MiniImageNet.Load("test");
        Assert.Equal(20, test.ClassCount);
        Assert.Equal(12000, test.ImageCount);
        Assert.All(Enumerable.Range(0, 20), c => Assert.Equal(600, test.Count(c)));
        Assert.Equal(new long[] { 3, 84, 84 }, test.ImageShape);
        Assert.Equal(ScalarType.Byte, test.Images.dtype);
        Assert.Equal("n01930112", test.ClassNames[0]);

        using var scope = NewDisposeScope();
        // n0193011200000001.jpg, the first test image, as Pillow 9.4 decodes it.
        var first = test.Images.narrow(0, 0, 1).reshape(3, 84, 84).to(ScalarType.Int64);
        Assert.Equal(new long[] { 40, 30, 38 }, first.select(2, 0).select(1, 0).ToArray<long>());
        Assert.Equal(new long[] { 72, 48, 12 }, first.select(2, 41).select(1, 41).ToArray<long>());
        Assert.Equal(new long[] { 239, 237, 216 }, first.select(2, 83).select(1, 83).ToArray<long>());
        Assert.Equal(new long[] { 718213, 688308, 541701 }, first.sum([1, 2]).ToArray<long>());

        // Model input: float32 in [0, 1].
        var x = test.ClassImages(3);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.InRange(x.min().item<float>(), 0f, 0.1f);
        Assert.InRange(x.max().item<float>(), 0.9f, 1f);
        using var sampler = new EpisodeSampler(test, 5, 5, 15, seed: 1);
        using var batch = sampler.Sample(2);
        Assert.Equal(new long[] { 2, 25, 3, 84, 84 }, batch.SupportInputs.shape);
    }

    [RequiresDataFact("mini-imagenet/train.csv", "mini-imagenet/val.csv", TestCsv)]
    public void NoClassIsInTwoSplits()
    {
        var classes = MiniImageNet.Splits.ToDictionary(s => s, s => File.ReadLines(DataPaths.Default.Find($"mini-imagenet/{s}.csv", ""))
            .Skip(1).Select(l => l.Split(',')[1]).ToHashSet());
        Assert.Equal((64, 16, 20), (classes["train"].Count, classes["val"].Count, classes["test"].Count));
        Assert.Empty(classes["train"].Intersect(classes["val"]));
        Assert.Empty(classes["train"].Intersect(classes["test"]));
        Assert.Empty(classes["val"].Intersect(classes["test"]));
    }

    [RequiresDataFact("mini-imagenet/train.csv")]
    public void MissingTrainImagesAreReportedWithTheirCount()
    {
        var status = MiniImageNet.Status("train");
        Assert.Equal(38400, status.Listed);
        if (status.Present == status.Listed)
        {
            output.WriteLine("All 38,400 train images are present: nothing missing to report (the synthetic test covers the message).");
            return;
        }
        var e = Assert.Throws<DataNotFoundException>(() => MiniImageNet.Load("train"));
        Assert.Equal(status.Listed - status.Present, e.MissingCount);
        Assert.Contains($"{e.MissingCount:N0} of the 38,400 images listed in", e.Message);
        Assert.Contains("ImageNet", e.Message);
        output.WriteLine(e.Message);
    }

    private static void WriteSplit(TempDirectory dir, string split, (string File, string Label)[] rows, IEnumerable<string> present, byte[]? jpeg = null)
    {
        Directory.CreateDirectory(dir.File("mini-imagenet/images"));
        File.WriteAllLines(dir.File($"mini-imagenet/{split}.csv"), ["filename,label", .. rows.Select(r => $"{r.File},{r.Label}")]);
        foreach (var f in present)
            File.WriteAllBytes(dir.File($"mini-imagenet/images/{f}"), jpeg ?? Convert.FromBase64String(ImageDecodeTests.RgbJpeg));
    }

    private static readonly (string, string)[] Rows =
        [("a1.jpg", "nA"), ("a2.jpg", "nA"), ("b1.jpg", "nB"), ("b2.jpg", "nB"), ("b3.jpg", "nB")];

    [Fact]
    public void MissingImagesAreCountedAndNamed()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "val", Rows, ["a1.jpg", "b2.jpg"]);
        var e = Assert.Throws<DataNotFoundException>(() => MiniImageNet.Load("val", paths: dir.DataPaths));
        Assert.Equal(3, e.MissingCount);
        Assert.Contains("3 of the 5 images listed in", e.Message);
        Assert.Contains("a2.jpg, b1.jpg, b3.jpg", e.Message);
        var status = MiniImageNet.Status("val", dir.DataPaths);
        Assert.Equal((5, 2, 2), (status.Listed, status.Present, status.Classes));
    }

    [Fact]
    public void ASplitIsCachedAndNormalised()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "val", Rows, Rows.Select(r => r.Item1));
        var log = new StringWriter();
        using (var first = MiniImageNet.Load("val", paths: dir.DataPaths, log: log))
        {
            Assert.Equal(["nA", "nB"], first.ClassNames);
            Assert.Equal((2, 3), (first.Count(0), first.Count(1)));
            // The 16×8 fixture was resized to 84×84.
            Assert.Equal(new long[] { 5, 3, 84, 84 }, first.Images.shape);
        }
        Assert.Contains("decoding 5 JPEGs", log.ToString());
        log = new StringWriter();
        using var again = MiniImageNet.Load("val", ImageNormalization.ImageNetMeanStd, dir.DataPaths, log);
        Assert.Contains("from the cache", log.ToString());
        using var scope = NewDisposeScope();
        // Mean/std normalisation: the red half of the fixture (≈ 200, 31, 28) becomes ≈ (1.4, −1.5, −1.3).
        var x = again.ClassImages(0).narrow(0, 0, 1).reshape(3, 84, 84).select(2, 10).select(1, 40).ToArray<float>();
        Assert.InRange(x[0], 1.2f, 1.6f);
        Assert.InRange(x[1], -1.7f, -1.3f);
        Assert.InRange(x[2], -1.5f, -1.1f);

        // A changed image changes the key: the split is decoded again.
        File.WriteAllBytes(dir.File("mini-imagenet/images/b3.jpg"), Convert.FromBase64String(ImageDecodeTests.GreyJpeg));
        log = new StringWriter();
        using var changed = MiniImageNet.Load("val", paths: dir.DataPaths, log: log);
        Assert.Contains("decoding 5 JPEGs", log.ToString());
        // The greyscale image became three equal channels.
        var grey = changed.Images.narrow(0, 4, 1).reshape(3, 84, 84);
        Assert.True(equal(grey.select(0, 0), grey.select(0, 2)));
    }

    [Fact]
    public void ACorruptJpegIsAClearError()
    {
        using var dir = new TempDirectory();
        var jpeg = Convert.FromBase64String(ImageDecodeTests.RgbJpeg);
        WriteSplit(dir, "test", Rows, Rows.Select(r => r.Item1));
        File.WriteAllBytes(dir.File("mini-imagenet/images/b2.jpg"), jpeg[..(jpeg.Length * 2 / 3)]);
        var e = Assert.Throws<InvalidDataException>(() => MiniImageNet.Load("test", paths: dir.DataPaths));
        Assert.Contains("b2.jpg", e.Message);
        Assert.Contains("libjpeg", e.Message);
    }

    [Fact]
    public void MamlsPerClassLayoutIsReadToo()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("mini-imagenet"));
        File.WriteAllLines(dir.File("mini-imagenet/train.csv"), ["filename,label", .. Rows.Select(r => $"{r.Item1},{r.Item2}")]);
        foreach (var (file, label) in Rows)
        {
            Directory.CreateDirectory(dir.File($"mini-imagenet/train/{label}"));
            File.WriteAllBytes(dir.File($"mini-imagenet/train/{label}/{file}"), Convert.FromBase64String(ImageDecodeTests.RgbJpeg));
        }
        using var train = MiniImageNet.Load("train", paths: dir.DataPaths);
        Assert.Equal(5, train.ImageCount);
    }
}
