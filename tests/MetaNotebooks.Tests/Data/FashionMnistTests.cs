using System.Buffers.Binary;
using System.IO.Compression;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

public class FashionMnistTests
{
    /// <summary>An IDX file of unsigned bytes: magic, big-endian sizes, data; gzipped when the name ends in .gz.</summary>
    private static void WriteIdx(string path, int[] shape, byte[] data, byte type = 0x08, int? truncateTo = null)
    {
        var header = new byte[4 + 4 * shape.Length];
        header[2] = type;
        header[3] = (byte)shape.Length;
        for (var i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), shape[i]);
        var bytes = header.Concat(data).ToArray();
        if (truncateTo is { } n) bytes = bytes[..n];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var stream = path.EndsWith(".gz") ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        stream.Write(bytes);
    }

    /// <summary>
    /// The test part in data/fashion-mnist/: 20 images of 3×2 pixels with labels 9, 0, 1, …, 8, 9, 0, … (two per class);
    /// image i has every pixel = 10·i, so the test can follow it through the grouping.
    /// </summary>
    private static byte[] WriteTestPart(TempDirectory dir, bool gzip = true)
    {
        var labels = Enumerable.Range(0, 20).Select(i => (byte)((i + 9) % 10)).ToArray();
        var pixels = Enumerable.Range(0, 20).SelectMany(i => Enumerable.Repeat((byte)(10 * i), 6)).ToArray();
        var ext = gzip ? ".gz" : "";
        WriteIdx(dir.File($"fashion-mnist/t10k-images-idx3-ubyte{ext}"), [20, 3, 2], pixels);
        WriteIdx(dir.File($"fashion-mnist/t10k-labels-idx1-ubyte{ext}"), [20], labels);
        return labels;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsIdxFilesGroupedByClassInFileOrder(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteTestPart(dir, gzip);
        using var test = FashionMnist.Load("test", dir.DataPaths);
        Assert.Equal(FashionMnist.ClassNames, test.ClassNames);
        Assert.Equal(20, test.ImageCount);
        Assert.Equal(new long[] { 1, 3, 2 }, test.ImageShape);
        Assert.Equal(ScalarType.Byte, test.Images.dtype);
        // Class c holds images c+1 and c+11 of the file (label of image i is (i + 9) % 10), in that order.
        for (var c = 0; c < 10; c++)
        {
            Assert.Equal(2, test.Count(c));
            using var images = test.ClassImages(c);   // model input: float in [0, 1]
            Assert.Equal(ScalarType.Float32, images.dtype);
            var values = images.amax([1L, 2L, 3L]).ToArray<float>();
            var first = (c + 1) % 10;
            Assert.Equal(new[] { 10 * first / 255f, 10 * (first + 10) / 255f }, values);
        }
    }

    [Fact]
    public void AMissingFileNamesThePlacesLookedAndTheDebianPackage()
    {
        using var dir = new TempDirectory();
        WriteTestPart(dir);
        File.Delete(dir.File("fashion-mnist/t10k-labels-idx1-ubyte.gz"));
        var e = Assert.Throws<DataNotFoundException>(() => FashionMnist.Load("test", dir.DataPaths));
        Assert.Contains(dir.File("fashion-mnist/t10k-labels-idx1-ubyte.gz"), e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Throws<ArgumentException>(() => FashionMnist.Load("validation", dir.DataPaths));
    }

    [Fact]
    public void DamagedFilesNameTheFileAndWhatIsWrong()
    {
        using var dir = new TempDirectory();
        var images = dir.File("fashion-mnist/t10k-images-idx3-ubyte.gz");
        var labels = dir.File("fashion-mnist/t10k-labels-idx1-ubyte.gz");
        var pixels = new byte[20 * 6];
        var good = Enumerable.Range(0, 20).Select(i => (byte)(i % 10)).ToArray();
        void Expect(string file, string text)
        {
            var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", dir.DataPaths));
            Assert.Contains(file, e.Message);
            Assert.Contains(text, e.Message);
        }

        WriteIdx(labels, [20], good);
        WriteIdx(images, [20, 3, 2], pixels, truncateTo: 4 + 12 + 50);
        Expect(images, "promises [20, 3, 2] = 120 bytes of data, the file has 50");

        WriteIdx(images, [20, 3, 2], pixels, type: 0x0D);
        Expect(images, "element type 0x0d");

        // A gzip header followed by a deflate block of the reserved type 3: the decompressor rejects it.
        File.WriteAllBytes(images, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        Expect(images, "not a readable gzip file");

        File.WriteAllBytes(images, [0x1f, 0x8b, 8, 0, 1, 2, 3]);   // cut inside the header: nothing decompresses
        Expect(images, "not an IDX file");

        WriteIdx(images, [20, 6], pixels);
        Expect(images, "images must be [n, rows, columns]");

        WriteIdx(images, [20, 3, 2], pixels);
        WriteIdx(labels, [19], good[..19]);
        Expect(labels, "[19] labels for the 20 images");

        var bad = good.ToArray();
        bad[5] = 12;
        WriteIdx(labels, [20], bad);
        Expect(labels, "label 12 at position 5");

        WriteIdx(labels, [20], Enumerable.Repeat((byte)3, 20).ToArray());
        Expect(labels, "no images of T-shirt/top");
    }

    [RequiresDataFact("fashion-mnist/train-images-idx3-ubyte.gz", "fashion-mnist/t10k-images-idx3-ubyte.gz")]
    public void TheDebianPackageHoldsSixtyAndTenThousandImages()
    {
        using var train = FashionMnist.Load("train");
        using var test = FashionMnist.Load("test");
        Assert.Equal(60_000, train.ImageCount);
        Assert.Equal(10_000, test.ImageCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6000, train.Count(c)));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Count(c)));
        Assert.Equal(new long[] { 1, 28, 28 }, train.ImageShape);
        // Trousers cover less of the frame than pullovers.
        using var trousers = test.ClassImages(1);
        using var pullovers = test.ClassImages(2);
        Assert.True(trousers.mean().item<float>() < pullovers.mean().item<float>());
    }
}
