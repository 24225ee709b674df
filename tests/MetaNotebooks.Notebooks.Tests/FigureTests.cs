using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using MetaNotebooks.Figures;
using MetaNotebooks.Torch;
using Xunit.Abstractions;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Notebooks.Tests;

public class FigureTests(ITestOutputHelper output)
{
    private static Figure Sample()
    {
        var x = Enumerable.Range(0, 40).Select(i => i / 4.0).ToArray();
        var figure = Figure.Subplots(1, 2, sharedY: true, titles: ["curves", "bars"], title: "test figure");
        figure.Add(new Band(x, x.Select(v => Math.Sin(v) - 0.3), x.Select(v => Math.Sin(v) + 0.3)) { Color = Palette.Get(0) });
        figure.Add(new Scatter(x, x.Select(Math.Sin)) { Name = "sin", Color = Palette.Get(0), ErrorY = x.Select(_ => 0.1).ToArray() });
        figure.Add(new Bar(["a", "b", "c"], [0.2, double.NaN, 0.7]) { Name = "bars" }, 1, 2);
        figure.X(1, 1).Title = "x";
        figure.Y(1, 1).Title = "y";
        return figure;
    }

    [Fact]
    public void SerialisesDeterministicPlotlyJson()
    {
        var json = Sample().ToJson();
        Assert.Equal(json, Sample().ToJson());
        var root = JsonNode.Parse(json)!;
        var data = root["data"]!.AsArray();
        Assert.Equal(3, data.Count);
        Assert.Equal("toself", data[0]!["fill"]!.GetValue<string>());
        Assert.Equal("x2", data[2]!["xaxis"]!.GetValue<string>());
        Assert.Null(data[2]!["y"]![1]); // NaN → null, as Plotly expects for a gap
        var layout = root["layout"]!;
        Assert.Equal("y", layout["yaxis2"]!["matches"]!.GetValue<string>());
        Assert.False(layout["yaxis2"]!["showticklabels"]!.GetValue<bool>());
        Assert.Equal("x", layout["xaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal(["curves", "bars"], layout["annotations"]!.AsArray().Select(a => a!["text"]!.GetValue<string>()));
        Assert.Equal("0.1", PlotlyJsonWriter.FormatNumber(0.1));
        Assert.Equal("0.3333333", PlotlyJsonWriter.FormatNumber(1.0 / 3));
        Assert.Equal("null", PlotlyJsonWriter.FormatNumber(double.PositiveInfinity));
    }

    [Fact]
    public void HtmlHasAContentDerivedIdAndLoadsPlotlyOnce()
    {
        var html = Sample().ToHtml();
        Assert.Equal(html, Sample().ToHtml());
        Assert.Contains("<div id=\"mn-figure-", html);
        Assert.Contains(PlotlyJs.CdnUrl, html);
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains("data:image/png;base64,AAAA", Sample().ToHtml(pngFallbackBase64: "AAAA"));
    }

    [Fact]
    public void ImageGridTilesImagesWithGapsAndLabels()
    {
        using var scope = NewDisposeScope();
        var grid = ImageGrid.FromTensor(rand(6, 1, 5, 4), columns: 3, labels: ["a", "b", "c", "d", "e", "f"]);
        var figure = new Figure().Add(grid);
        var root = JsonNode.Parse(figure.ToJson())!;
        var z = root["data"]![0]!["z"]!.AsArray();
        Assert.Equal(3 * 4 + 2 * 2, z[0]!.AsArray().Count); // 3 images of width 4, 2 gaps of 2
        Assert.Equal("reversed", root["layout"]!["yaxis"]!["autorange"]!.GetValue<string>());
        Assert.Equal(6, root["layout"]!["annotations"]!.AsArray().Count);
        Assert.Throws<ArgumentException>(() => ImageGrid.FromTensor(rand(2, 2, 5, 4)));
    }

    [Fact]
    public void DisplayTablesAndTensors()
    {
        var table = Display.Table(["method", "published", "ours"], [["MAML", 98.7, 97.31234], ["ProtoNet", 98.8, null]], "Omniglot 5-way 1-shot");
        Assert.Contains("<caption>Omniglot 5-way 1-shot</caption>", table.Html);
        Assert.Contains("<td style=\"text-align:right\">97.3123</td>", table.Html);
        Assert.Contains("MAML           98.7  97.3123", table.Text);

        using var scope = NewDisposeScope();
        var t = Display.Tensor(arange(0, 6, 1, float32).reshape(2, 3), decimals: 1);
        Assert.Contains("<th>1</th><td style=\"text-align:right\">3.0</td>", t.Html);
        Assert.Contains("tensor [2, 3] float32", t.Text);
        var wide = Display.Tensor(arange(100), maxColumns: 6);
        Assert.Contains("…", wide.Text);
        Assert.Contains(">99<", wide.Html);
        Assert.Throws<ArgumentException>(() => Display.Tensor(zeros(2, 2, 2)));
    }

    [Fact]
    public void MissingChromiumNamesTheSetUpCommand()
    {
        var previous = Environment.GetEnvironmentVariable("MN_CHROMIUM");
        try
        {
            Environment.SetEnvironmentVariable("MN_CHROMIUM", "/nonexistent/chromium");
            using var temp = new TempFolder();
            var e = Assert.Throws<FigureRenderException>(() => Sample().SavePng(temp.File("x.png")));
            Assert.Contains("./mn setup", e.Message);
            Assert.False(File.Exists(temp.File("x.png")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MN_CHROMIUM", previous);
        }
    }

    /// <summary>Through real headless Chromium: a PNG of the asked size that is not blank.</summary>
    [Fact]
    public void SavesAPngThatIsNotBlank()
    {
        if (HeadlessBrowser.Find() is null || PlotlyJs.FindLocal() is null)
        {
            output.WriteLine("SKIPPED: Chromium or plotly.js is not installed (./mn setup installs both).");
            return;
        }
        using var temp = new TempFolder();
        var file = temp.File("figure.png");
        Sample().SavePng(file, 400, 300);
        HeadlessBrowser.Screenshot("<!DOCTYPE html><html><body style=\"margin:0;background:#fff\"></body></html>", temp.File("blank.png"), 400, 300);

        var (width, height, pixels) = Decode(File.ReadAllBytes(file));
        var (_, _, blankPixels) = Decode(File.ReadAllBytes(temp.File("blank.png")));
        output.WriteLine($"figure PNG {new FileInfo(file).Length} bytes, blank {new FileInfo(temp.File("blank.png")).Length} bytes");
        Assert.Equal((400, 300), (width, height));
        Assert.True(new FileInfo(file).Length > 3 * new FileInfo(temp.File("blank.png")).Length);
        // A plot has lines, text and colours; a blank page has one value everywhere.
        Assert.True(Distinct(pixels) > 30, $"only {Distinct(pixels)} distinct byte values");
        Assert.True(Distinct(blankPixels) < 10);
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp*"));
    }

    /// <summary>Width, height and the inflated image data (still filtered: enough to tell a drawing from a blank page).</summary>
    private static (int Width, int Height, byte[] Data) Decode(byte[] png)
    {
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        var idat = new MemoryStream();
        int width = 0, height = 0;
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at + 8));
                height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at + 12));
            }
            if (type == "IDAT") idat.Write(png, at + 8, length);
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        return (width, height, inflated.ToArray());
    }

    private static int Distinct(byte[] data) => data.Distinct().Count();
}
