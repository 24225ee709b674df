using System.Text.Json.Nodes;
using MetaNotebooks.Figures;

namespace MetaNotebooks.Tests.Data;

/// <summary>Colour image grids travel as one PNG: our encoder's files decode (libpng) to the pixels written.</summary>
public class ColourImageGridTests
{
    [Fact]
    public void EncodedPngDecodesToThePixels()
    {
        var rgb = new byte[5 * 3 * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 37 % 256);
        using var scope = NewDisposeScope();
        var decoded = io.decode_png(PngEncoder.Rgb(rgb, width: 5, height: 3));   // [3, H, W]
        Assert.Equal(new long[] { 3, 3, 5 }, decoded.shape);
        Assert.Equal(rgb, decoded.permute(1, 2, 0).contiguous().ToArray<byte>());
        Assert.Throws<ArgumentException>(() => PngEncoder.Rgb(rgb, 4, 3));
    }

    [Fact]
    public void AColourGridIsOnePngOfItsImagesWithWhiteGaps()
    {
        using var scope = NewDisposeScope();
        // Two 2×2 images side by side (gap 1): red and blue.
        var red = new float[3, 2, 2];
        var blue = new float[3, 2, 2];
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 2; x++) (red[0, y, x], blue[2, y, x]) = (1, 1);
        var figure = new Figure("two") .Add(new ImageGrid([red, blue]) { Columns = 2, Gap = 1, Min = 0, Max = 1 });
        var trace = JsonNode.Parse(figure.ToJson())!["data"]![0]!;
        Assert.Equal("image", trace["type"]!.GetValue<string>());
        Assert.Null(trace["z"]);
        var source = trace["source"]!.GetValue<string>();
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, source);
        var pixels = io.decode_png(Convert.FromBase64String(source[prefix.Length..])).permute(1, 2, 0);   // [H, W, 3]
        Assert.Equal(new long[] { 2, 5, 3 }, pixels.shape);
        Assert.Equal(new byte[] { 255, 0, 0 }, pixels[0, 0].ToArray<byte>());
        Assert.Equal(new byte[] { 255, 255, 255 }, pixels[1, 2].ToArray<byte>());   // the gap
        Assert.Equal(new byte[] { 0, 0, 255 }, pixels[1, 4].ToArray<byte>());
    }
}
