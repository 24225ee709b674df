using System.Text.Json.Nodes;
using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Tests;

/// <summary>The published-vs-ours table a reproduction prints keeps long method names apart from the column.</summary>
public sealed class SideBySideTests
{
    [Fact]
    public void LongMethodNamesKeepTheirOwnColumn()
    {
        var paper = PublishedPaper.Load(Path.Combine(RepositoryRoot.Find(), "papers", "koch2015-siamese", "published.json"));
        var table = paper.Tables.First(t => t.Columns.Contains("5-way 1-shot"));
        var method = table.Rows.First().Method;
        var result = new ResultFile
        {
            Experiment = "test", Paper = "koch2015-siamese", Command = "test", Finished = DateTimeOffset.UnixEpoch, WallSeconds = 1, Threads = 1,
            Machine = "test", Seed = 1, Config = new JsonObject(),
            Cells = [new ResultCell(table.Id, method, "5-way 1-shot", 96.8, 0.27, 1000, "a budget")],
        };
        var text = ReproduceCommand.SideBySide(result, paper);
        Assert.Contains($"{method}  5-way 1-shot", text);
        Assert.Contains("budget: a budget", text);
    }
}
