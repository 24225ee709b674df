using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

public class DatasetFiguresTests
{
    [Fact]
    public void OmniglotRotationsAreAGreyGrid()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        using var omniglot = Omniglot.Load(paths: dir.DataPaths);
        var json = DatasetFigures.OmniglotRotations(omniglot, characters: 2, seed: 1).ToJson();
        Assert.Contains("\"type\":\"heatmap\"", json);
        Assert.Contains("90°", json);
        Assert.Contains("270°", json);
    }

    [Fact]
    public void SamplesOfAColourDataset()
    {
        using var scope = NewDisposeScope();
        using var data = new ClassIndexedDataset("colours", rand(6, 3, 8, 8), ["red", "green", "blue"], [2, 2, 2]);
        var (images, labels) = data.Samples(classes: 2, perClass: 2, seed: 3);
        Assert.Equal(new long[] { 4, 3, 8, 8 }, images.shape);
        Assert.Equal(labels[0], labels[1]);
        Assert.NotEqual(labels[1], labels[2]);
        var json = DatasetFigures.Samples(data, classes: 2, perClass: 2).ToJson();
        Assert.Contains("\"type\":\"image\"", json);
        Assert.Equal(4, DatasetFigures.ColourImages(images).Length);
        Assert.Equal(8, DatasetFigures.GreyImages(images.narrow(1, 0, 1))[0].GetLength(0));
    }
}
