using System.Text.Json.Nodes;
using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.Results;

/// <summary>The rule on results made in memory: settings compared without their lengths, progress compared per model.</summary>
public class ResultGuardTests
{
    private static ResultFile Metric(int oneShot, int fiveShot, int evalEpisodes = 1000, double? hours = 0.5) => new()
    {
        Experiment = "protonet-omniglot", Paper = "snell2017-prototypical", Command = "test", Finished = DateTimeOffset.UnixEpoch,
        WallSeconds = 1, Threads = 1, Machine = "test", Seed = 1, Cells = [],
        Config = new JsonObject
        {
            ["eval_episodes"] = evalEpisodes, ["hours"] = hours,
            ["runs"] = new JsonArray(new JsonObject { ["slug"] = "1shot", ["training"] = new JsonObject { ["iterations"] = 20000, ["ways"] = 60 } }),
        },
        Details = new JsonObject
        {
            ["1shot"] = new JsonObject { ["iterations"] = oneShot, ["completed"] = false },
            ["5shot"] = new JsonObject { ["iterations"] = fiveShot, ["completed"] = false },
        },
    };

    [Fact]
    public void AResultWithFewerEpisodesOfAnyModelDoesNotReplaceTheCommittedOne()
    {
        var committed = Metric(1606, 1582);
        Assert.Null(ResultGuard.WhyNotReplace(committed, Metric(1606, 1582)));
        Assert.Null(ResultGuard.WhyNotReplace(committed, Metric(1700, 1600, hours: 2)));   // a longer budget is the same run, further
        Assert.Contains("5shot.iterations", ResultGuard.WhyNotReplace(committed, Metric(1700, 10)));
        Assert.Contains("eval_episodes", ResultGuard.WhyNotReplace(committed, Metric(1700, 1600, evalEpisodes: 10)));
        var oneModel = Metric(1700, 1600);
        oneModel.Details!.Remove("5shot");
        Assert.Contains("5shot.iterations", ResultGuard.WhyNotReplace(committed, oneModel));
    }
}
