using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Cli.Reproductions;

namespace MetaNotebooks.Cli.Tests;

/// <summary>Bad numbers are usage errors (exit 2) naming the option, raised before any data is loaded or file touched.</summary>
public sealed class OptionValidationTests
{
    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e6")]
    [InlineData("0")]
    public void ATimeBudgetMustBeAFiniteNumberOfHoursATimerCanWait(string hours)
    {
        var error = Assert.Throws<UsageException>(() => new Options(["--hours", hours]).Hours());
        Assert.Contains("--hours", error.Message);
        Assert.Equal(2.5, new Options(["--hours", "2.5"]).Hours());
        Assert.Null(new Options([]).Hours());
    }

    [Fact]
    public void NoNumberOptionAcceptsNaNOrInfinity()
    {
        foreach (var value in new[] { "NaN", "Infinity", "-Infinity" })
            Assert.Contains("--lr", Assert.Throws<UsageException>(() => new Options(["--lr", value]).Double("lr", 0.1)).Message);
    }

    [Fact]
    public void ThreadsAreBoundedByTheMachine()
    {
        var error = Assert.Throws<UsageException>(() => new ReproduceCommand().Run(["maml-sine", "--threads", "100000", "--iterations", "0", "--eval-tasks", "2"]));
        Assert.Contains("--threads", error.Message);
        Assert.Contains($"{ReproduceCommand.MaxThreads}", error.Message);
        Assert.Throws<UsageException>(() => new ReproduceCommand().Run(["maml-sine", "--threads", "0", "--iterations", "0", "--eval-tasks", "2"]));
    }

    [Fact]
    public void DropoutOutsideZeroToOneIsRefusedBeforeTheDigitsLoad()
    {
        // Before any data: the MNIST digits may not even be installed here, so a late check would fail differently.
        var context = new ReproductionContext(Directory.CreateTempSubdirectory("mn-dropout-").FullName, "test", CancellationToken.None);
        try
        {
            var error = Assert.Throws<UsageException>(() => new SiameseMnistReproduction().Run(new Options(["--dropout", "1.5"]), context));
            Assert.Contains("--dropout", error.Message);
        }
        finally { Directory.Delete(context.RepositoryRoot, recursive: true); }
    }

    [Theory]
    [InlineData("5,6,7", "5 digits")]         // the unseen digits are five: 5-way episodes on them and on the seen five
    [InlineData("5,6,7,8,10", "--unseen")]    // not a digit
    [InlineData("5,5,7,8,9", "--unseen")]     // a digit twice
    [InlineData("5,six,7,8,9", "--unseen")]   // not an integer
    public void UnseenDigitsAreCheckedBeforeTheDigitsLoad(string unseen, string expected)
    {
        var context = new ReproductionContext(Directory.CreateTempSubdirectory("mn-unseen-").FullName, "test", CancellationToken.None);
        try
        {
            var error = Assert.Throws<UsageException>(() => new SiameseMnistReproduction().Run(new Options(["--unseen", unseen]), context));
            Assert.Contains(expected, error.Message);
        }
        finally { Directory.Delete(context.RepositoryRoot, recursive: true); }
    }

    [Fact]
    public void AnOmniglotImageSizeOfZeroIsAUsageErrorNamingSize()
    {
        var error = Assert.Throws<UsageException>(() => new DataCommand().Run(["prepare", "omniglot", "--size", "0"]));
        Assert.Contains("--size", error.Message);
    }
}
