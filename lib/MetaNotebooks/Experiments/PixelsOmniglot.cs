using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// The pixel nearest-neighbour row of the Matching Networks table (cosine on raw pixels, no training) on our fixed
/// test episodes, in both pixel polarities: a check that our episodes are the literature's, and which polarity the
/// published 41.7 / 63.2 / 26.7 / 42.6 used (background 1, the PNG's own: see the result file).
/// </summary>
public static class PixelsOmniglot
{
    public const string PaperId = "vinyals2016-matching";
    public const string ExperimentName = "pixels-omniglot";
    public static readonly (int Ways, int Shots)[] Settings = [(5, 1), (5, 5), (20, 1), (20, 5)];

    public static ResultFile Run(Omniglot omniglot, string paperDirectory, string command, int episodes = 1000, int queries = 15, TextWriter? log = null)
    {
        log ??= Console.Error;
        var clock = Stopwatch.StartNew();
        using var test = omniglot.Vinyals("test");
        var cells = new List<ResultCell>();
        var details = new JsonObject();
        foreach (var polarity in new[] { PixelPolarity.BackgroundOne, PixelPolarity.StrokesOne })
        {
            var perSetting = new JsonObject();
            foreach (var (ways, shots) in Settings)
            {
                var acc = EpisodeTrainer.Evaluate(new PixelNearestNeighbour(polarity), test, ways, shots, queries, episodes);
                var s = EpisodeTrainer.Percent(acc);
                log.WriteLine($"pixels, {polarity}, {ways}-way {shots}-shot: {s.Mean:0.00} ± {s.Ci95:0.00}%");
                var column = MetricOmniglotConfig.Column(ways, shots);
                var method = polarity == PixelPolarity.BackgroundOne ? "Pixels" : "Pixels (strokes 1, background 0)";
                cells.Add(new ResultCell("omniglot", method, column, s.Mean, s.Ci95, s.Count,
                                         $"no training; cosine 1-NN on raw 28×28 pixels, {(polarity == PixelPolarity.BackgroundOne ? "background 1, strokes 0 (the PNGs' polarity)" : "strokes 1, background 0")}"));
                perSetting[column] = new JsonObject { ["mean"] = Math.Round(s.Mean, 3), ["ci95"] = Math.Round(s.Ci95, 3) };
            }
            details[polarity.ToString()] = perSetting;
        }
        var result = new ResultFile
        {
            Experiment = ExperimentName, Paper = PaperId, Command = command, Finished = DateTimeOffset.UtcNow,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Threads = get_num_threads(), Machine = ResultFile.DescribeMachine(), Seed = EpisodeTrainer.EvaluationSeed,
            Config = new JsonObject { ["split"] = "Vinyals test (1,692 classes)", ["episodes"] = episodes, ["queries"] = queries, ["eval_seed"] = EpisodeTrainer.EvaluationSeed },
            Cells = cells, Details = details,
        };
        result.Save(Path.Combine(paperDirectory, "results", ExperimentName + ".json"));
        return result;
    }
}
