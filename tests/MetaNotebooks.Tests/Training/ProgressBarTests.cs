using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Training;

/// <summary>The progress bar's plain-line form (stderr redirected: CI, nohup logs), on a fake clock.</summary>
public class ProgressBarTests
{
    [Fact]
    public void LogsEveryTenthAndAtLeastOnceAMinute()
    {
        var now = TimeSpan.Zero;
        var log = new StringWriter();
        var bar = new ProgressBar("run", 1000, 0, log, () => now);
        for (var i = 1; i <= 250; i++) { now += TimeSpan.FromSeconds(0.1); bar.Report(i, "loss 1"); }
        // 25 s in: the lines of deciles 0, 1 and 2, nothing in between.
        Assert.Equal(["1/1,000", "100/1,000", "200/1,000"], Lines(log).Select(l => l.Split(' ')[2]));

        // A slow stretch (a time budget may stop the run before the next tenth): a line a minute all the same (the last
        // line was at 20 s; steps of 15 s from 25 s reach 85 s at episode 254, then 145 s at 258).
        for (var i = 251; i <= 260; i++) { now += TimeSpan.FromSeconds(15); bar.Report(i, "loss 0.5"); }
        var lines = Lines(log);
        Assert.Equal(["1/1,000", "100/1,000", "200/1,000", "254/1,000", "258/1,000"], lines.Select(l => l.Split(' ')[2]));
        Assert.EndsWith("loss 0.5", lines[^1]);

        bar.Finish("done");
        Assert.Contains("1,000/1,000 100%", Lines(log)[^1]);
        Assert.EndsWith("done", Lines(log)[^1]);
    }

    private static string[] Lines(StringWriter log) => log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
