using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Cli;
using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Experiments;
using MetaNotebooks.Tests.Data;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>MetaNet's reproduction settings: MNIST (Appendix B out of domain, §5.3 continual learning), M-way test heads, the --hours budget.</summary>
[Collection(OmniglotCollection.Name)]
public class MetaNetReproductionTests(OmniglotFixture fixture)
{
    [Theory]
    [InlineData(new[] { "metanet-omniglot", "--mnist" }, "--mnist scores 10-way MNIST episodes through a 10-way head: train with --ways 10 or add 10 to --test-ways")]
    [InlineData(new[] { "metanet-omniglot", "--ways", "20", "--continual-trials", "10" }, "MNIST, which has 10 classes: use --ways ≤ 10")]
    [InlineData(new[] { "metanet-omniglot", "--continual-every", "0" }, "--continual-every ≥ 1")]
    [InlineData(new[] { "metanet-omniglot", "--hours", "0" }, "--hours must be a positive number of hours")]
    [InlineData(new[] { "metanet-omniglot", "--test-ways", "20,x" }, "--test-ways expects a comma-separated list of integers such as 5,20,100, got '20,x'")]
    [InlineData(new[] { "metanet-omniglot", "--test-ways", "20,1" }, "--test-ways: every M must be ≥ 2, got 20,1")]
    [InlineData(new[] { "metanet-omniglot", "--test-ways", "20", "--test-ways-episodes", "1" }, "--test-ways-episodes must be ≥ 2, got 1")]
    [InlineData(new[] { "metanet-omniglot", "--fast-weight-scale", "unit" }, "--fast-weight-scale must be none or fan-in, not 'unit'")]
    public void BadOptionsGiveClearErrors(string[] args, string message)
    {
        var error = Assert.Throws<UsageException>(() => new ReproduceCommand().Run(args));
        Assert.Contains(message, error.Message);
    }

    /// <summary>
    /// A tiny run with every MNIST part: the 10-way head scores MNIST (and 10-way Omniglot on its own episode count); the continual phase measures Omniglot from trial 0
    /// (on the first of the fixed test episodes, so its first point is the main evaluation's score on those episodes),
    /// then resumes from its own checkpoint and extends its curve without recomputing the points it has.
    /// </summary>
    [RequiresDataFact(OmniglotFixture.Background, OmniglotFixture.Evaluation)]
    public void MnistOutOfDomainAndTheContinualPhaseResume()
    {
        using var dir = new TempDirectory();
        var config = new MetaNetOmniglotConfig
        {
            Episodes = 2, EvalEpisodes = 4, TestWays = [10], TestWaysEvalEpisodes = 3, Mnist = true, ContinualTrials = 4, ContinualEvery = 2, ContinualEvalEpisodes = 2,
            Model = new MetaNetOptions { Filters = 8, TaskLevelFastWeights = false },
        };
        var experiment = new MetaNetOmniglot(config, dir.Path);
        var result = experiment.Run(fixture.Omniglot, "test", showProgress: false, log: TextWriter.Null)!;

        Assert.Equal(["5-way", "5→10-way", "10-way 1-shot", "before MNIST", "after MNIST"], result.Cells.Select(c => c.Column));
        Assert.Equal([4, 3], result.Cells.Where(c => c.Table is "omniglot" or "generalisation").Select(c => c.Count));
        var mnist = result.Cells.Single(c => c.Table == "mnist");
        Assert.Equal(4, mnist.Count);
        Assert.Contains("10,000 digits", mnist.Budget);
        Assert.True(File.Exists(experiment.ModelPath));

        var curve = result.Details!["continual_curve"]!.AsArray();
        Assert.Equal([0, 2, 4], curve.Select(p => (int)p!["trials"]!));
        var firstEpisodes = result.Details["per_episode_accuracy"]!["5-way"]!.AsArray().Take(2).Select(a => (double)a!).Average() * 100;
        Assert.Equal(firstEpisodes, (double)curve[0]!["mean"]!, 2);
        Assert.Equal((double)curve[0]!["mean"]!, result.Cells.Single(c => c.Column == "before MNIST").Mean, 2);
        Assert.Equal((double)curve[^1]!["mean"]!, result.Cells.Single(c => c.Column == "after MNIST").Mean, 2);

        var longer = new MetaNetOmniglot(config with { ContinualTrials = 6 }, dir.Path).Run(fixture.Omniglot, "test", showProgress: false, log: TextWriter.Null)!;
        var extended = longer.Details!["continual_curve"]!.AsArray();
        Assert.Equal([0, 2, 4, 6], extended.Select(p => (int)p!["trials"]!));
        Assert.Equal(curve.Select(p => p!.ToJsonString()), extended.Take(3).Select(p => p!.ToJsonString()));
        Assert.Equal(6, (int)longer.Details["continual_trials"]!);
    }

    /// <summary>A budget that ends during training: the model is scored with the episodes it reached, and the budget says so.</summary>
    [RequiresDataFact(OmniglotFixture.Background, OmniglotFixture.Evaluation)]
    public void AnHourBudgetStopsTrainingAndStillScores()
    {
        using var dir = new TempDirectory();
        var config = new MetaNetOmniglotConfig
        {
            Episodes = 100_000, EvalEpisodes = 2, Hours = 2.0 / 3600, ContinualTrials = 10,
            Model = new MetaNetOptions { Filters = 8, TaskLevelFastWeights = false },
        };
        var result = new MetaNetOmniglot(config, dir.Path).Run(fixture.Omniglot, "test", showProgress: false, log: TextWriter.Null)!;
        var episodes = (int)result.Details!["episodes"]!;
        Assert.InRange(episodes, 1, 99_999);
        Assert.False((bool)result.Details["completed"]!);
        var cell = Assert.Single(result.Cells);   // no continual phase before the Omniglot training is complete
        Assert.Contains($"{episodes:N0} of 100,000 planned episodes", cell.Budget);
    }
}
