using MetaNotebooks.Cli;
using MetaNotebooks.Cli.Commands;

namespace MetaNotebooks.Tests.Data;

public class DataCommandTests
{
    [Theory]
    [InlineData("prepare", "cifar")]
    [InlineData("download", "mini-imagenet")]
    [InlineData("frobnicate")]
    [InlineData("prepare", "omniglot", "--filter", "sharpest")]
    [InlineData("prepare", "mini-imagenet", "--split", "holdout")]
    [InlineData("status", "--colour")]
    public void BadArgumentsAreUsageErrors(params string[] args) =>
        Assert.Throws<UsageException>(() => new DataCommand().Run(args));

    [Fact]
    public void StatusAndPrepareOnAFolderGivenWithData()
    {
        using var dir = new TempDirectory();
        TinyOmniglot.Write(dir.Path);
        var command = new DataCommand();
        Assert.Equal("data", command.Name);
        Assert.Equal(0, command.Run(["status", "--data", dir.Path]));
    }
}
