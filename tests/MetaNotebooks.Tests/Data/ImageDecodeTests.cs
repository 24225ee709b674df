namespace MetaNotebooks.Tests.Data;

/// <summary>torch.io: PNG (libpng) and JPEG (libjpeg-turbo) decoding; fixtures are tiny files written by Pillow 9.4.</summary>
public class ImageDecodeTests
{
    // 5×3, 1-bit greyscale (PIL mode "1"): rows 10110 / 00101 / 11100.
    private const string OneBitPng = "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADAQAAAABzTfhVAAAADklEQVR4nGPYwKDB8AAABM4BucMFxMsAAAAASUVORK5CYII=";
    // 2×2 RGB: red, green / blue, (10, 20, 30).
    private const string RgbPng = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DA8J+BgYHhP5eIHAAaWAM6guCrUwAAAABJRU5ErkJggg==";
    // 16×8 RGB JPEG (quality 95), left half (200, 30, 30), right half (30, 30, 200).
    internal const string RgbJpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAIABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD5Dr5/oor9w+hh/wAz3/uV/wDdg/o76Wf/ADJv+5j/ANwH/9k=";
    // 16×8 greyscale JPEG (quality 100), columns 0, 16, …, 240.
    internal const string GreyJpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAAIABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AP5v/wDgm3/zAP8At2/9lr/QA/4Jt/8AMA/7dv8A2Wv/2Q==";

    [Fact]
    public void OneBitPngGivesZeroAnd255()
    {
        using var scope = NewDisposeScope();
        var x = io.decode_png(Convert.FromBase64String(OneBitPng));
        Assert.Equal(new long[] { 1, 3, 5 }, x.shape);
        Assert.Equal(ScalarType.Byte, x.dtype);
        byte[] expected = [255, 0, 255, 255, 0, 0, 0, 255, 0, 255, 255, 255, 255, 0, 0];
        Assert.Equal(expected, x.ToArray<byte>());
    }

    [Fact]
    public void RgbPngIsChannelsFirst()
    {
        using var scope = NewDisposeScope();
        var x = io.decode_png(Convert.FromBase64String(RgbPng));
        Assert.Equal(new long[] { 3, 2, 2 }, x.shape);
        byte[] expected = [255, 0, 0, 10, /* G */ 0, 255, 0, 20, /* B */ 0, 0, 255, 30];
        Assert.Equal(expected, x.ToArray<byte>());
    }

    public static TheoryData<string, string, long[], byte[]> PngKinds => new()
    {
        // 16-bit greyscale 0, 65535, 4660 / 32768, 257, 1000: reduced to the high byte.
        { "16-bit grey", "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACEAAAAADoj+WFAAAAFklEQVR4nGNgYPj/X8iEoYGBkZH5BQAbMAOyOnFHMQAAAABJRU5ErkJggg==",
          [1, 2, 3], [0, 255, 18, 128, 1, 3] },
        { "grey + alpha", "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAQAAADYv8WvAAAAEklEQVR4nGPk+s/VyCLCyOUAAAxtAfkRMeisAAAAAElFTkSuQmCC",
          [2, 2, 2], [10, 20, 30, 40, 255, 128, 0, 64] },
        { "RGBA", "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGNkZGJmYWFhYQEAAHYAHFEE6MUAAAAASUVORK5CYII=",
          [4, 1, 2], [1, 5, 2, 6, 3, 7, 4, 8] },
        // Palette: entry 1 (blue) then entry 0 (red), expanded to RGB.
        { "palette", PalettePng, [3, 1, 2], [0, 255, 0, 0, 255, 0] },
        // Adam7-interlaced 8×8 RGB whose bytes count 0, 1, 2, … in H, W, C order.
        { "interlaced", "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFUlEQVR4nGNkYGRixgZYJCQkhpAEAJG7BBEc4dnCAAAAAElFTkSuQmCC",
          [3, 8, 8], Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, 64).Select(p => (byte)(p * 3 + c))).ToArray() },
    };

    private static string PalettePng => "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAMAAADD/I+4AAADAFBMVEX/AAAAAP8" + new string('A', 1015) +
                                        "CAwGKEAAAAC0lEQVR4nGNgZAAAAAUAAtFmM3gAAAAASUVORK5CYII=";

    [Theory]
    [MemberData(nameof(PngKinds))]
    public void EveryPngKindBecomesEightBitChannels(string kind, string png, long[] shape, byte[] values)
    {
        using var scope = NewDisposeScope();
        var x = io.decode_png(Convert.FromBase64String(png));
        Assert.True(shape.SequenceEqual(x.shape), kind);
        Assert.Equal(values, x.ToArray<byte>());
    }

    [Fact]
    public void JpegDecodesLikeLibjpegInPillow()
    {
        using var scope = NewDisposeScope();
        var x = io.decode_jpeg(Convert.FromBase64String(RgbJpeg));
        Assert.Equal(new long[] { 3, 8, 16 }, x.shape);
        var v = x.ToArray<byte>();
        // Pixels (0,0) and (0,15) as Pillow 9.4 decodes them: [200, 31, 28] and [29, 29, 201].
        Assert.Equal(new byte[] { 200, 31, 28 }, new[] { v[0], v[128], v[256] });
        Assert.Equal(new byte[] { 29, 29, 201 }, new[] { v[15], v[128 + 15], v[256 + 15] });

        var g = io.decode_jpeg(Convert.FromBase64String(GreyJpeg));
        Assert.Equal(new long[] { 1, 8, 16 }, g.shape);
        var row = g.ToArray<byte>().AsSpan(0, 16).ToArray();
        for (var i = 0; i < 16; i++) Assert.InRange(row[i], i * 16 - 2, i * 16 + 2);
    }

    [Fact]
    public void DecodeImageTellsFormatsApart()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 1, 3, 5 }, io.decode_image(Convert.FromBase64String(OneBitPng)).shape);
        Assert.Equal(new long[] { 3, 8, 16 }, io.decode_image(Convert.FromBase64String(RgbJpeg)).shape);
        Assert.Throws<TorchException>(() => io.decode_image([1, 2, 3, 4]));
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "png-truncated", "truncated" },
        { "png-bad-crc", "CRC" },
        { "png-bad-signature", "not a PNG" },
        { "png-empty", "empty" },
        { "jpeg-truncated", "Premature end" },
        { "jpeg-garbage-scan", "libjpeg" },
        { "jpeg-bad-signature", "not a JPEG" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void CorruptDataIsAClearError(string kind, string expected)
    {
        var png = Convert.FromBase64String(RgbPng);
        var jpeg = Convert.FromBase64String(RgbJpeg);
        byte[] data = kind switch
        {
            "png-truncated" => png[..(png.Length - 20)],
            "png-bad-crc" => Flip(png, 30), // inside the IHDR chunk: its CRC no longer matches
            "png-bad-signature" => Flip(png, 1),
            "png-empty" => [],
            "jpeg-truncated" => jpeg[..(jpeg.Length * 3 / 4)],
            "jpeg-garbage-scan" => ScrambleScan(jpeg),
            "jpeg-bad-signature" => Flip(jpeg, 0),
            _ => throw new ArgumentException(kind),
        };
        var e = Assert.Throws<TorchException>(() => kind.StartsWith("png") ? io.decode_png(data) : io.decode_jpeg(data));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static byte[] Flip(byte[] data, int at)
    {
        var copy = (byte[])data.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    // Overwrites the entropy-coded data after the start-of-scan header with 0xFF 0x00-free noise.
    private static byte[] ScrambleScan(byte[] jpeg)
    {
        var copy = (byte[])jpeg.Clone();
        var sos = copy.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xDA]);
        var start = sos + 2 + (copy[sos + 2] << 8 | copy[sos + 3]);
        var rng = new Random(1);
        for (var i = start; i < copy.Length - 2; i++) copy[i] = (byte)rng.Next(0, 0xFF);
        return copy;
    }
}
