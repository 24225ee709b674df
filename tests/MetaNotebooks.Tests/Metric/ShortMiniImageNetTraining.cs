using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Training;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>The real-data check every metric learner's Mini-ImageNet cell gets: a short seeded run lowers the loss and scores above chance.</summary>
internal static class ShortMiniImageNetTraining
{
    /// <summary>
    /// Trains `learner` with `options` (one thread) on the real train split, then scores the first 50 shared 5-way
    /// `options.Shots`-shot 15-query test episodes; asserts the loss fell and the accuracy is above chance (20%) with its 95% CI.
    /// </summary>
    public static void LiftsAboveChance(IEpisodeLearner learner, EpisodeTrainingOptions options, MiniImageNetSplits data, ITestOutputHelper output)
    {
        set_num_threads(1);
        var outcome = EpisodeTrainer.Train(learner, data.Train, options with { CurveEvery = 50, ShowProgress = false }, checkpointPath: null);
        var after = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(learner, data.Test, 5, options.Shots, 15, episodes: 50));
        output.WriteLine($"{learner.Name}: loss per 50 episodes {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}; " +
                         $"5-way {options.Shots}-shot on the first 50 shared test episodes: {after} after {options.Iterations} episodes (chance 20%)");
        Assert.True(outcome.LossCurve[^1] < outcome.LossCurve[0], $"the loss went from {outcome.LossCurve[0]:0.000} to {outcome.LossCurve[^1]:0.000}");
        Assert.True(after.Mean - after.Ci95 > 20, $"after {options.Iterations} episodes: {after}, not above chance (20%)");
    }
}
