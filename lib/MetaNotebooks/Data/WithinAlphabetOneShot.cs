using MetaNotebooks.Torch;

namespace MetaNotebooks.Data;

/// <summary>
/// One run of the within-alphabet one-shot task: `Ways` characters of one alphabet; the drawings of one drawer are the
/// test images, those of another drawer the candidates ("training images"), one per character. Trial i classifies
/// test image i (character Characters[i]) among the candidates; the right answer is candidate i.
/// </summary>
public sealed record OneShotRun(int Alphabet, int[] Characters, int TestDrawer, int CandidateDrawer, long[] TestRows, long[] CandidateRows)
{
    public int Ways => Characters.Length;
}

/// <summary>
/// Lake et al.'s (2013) 20-way within-alphabet one-shot classification as Koch et al. (2015) run it: per alphabet,
/// pick 20 of its characters uniformly at random and two drawers; each of the first drawer's 20 drawings is classified
/// against the second drawer's 20 by the most similar candidate. Twice per alphabet: 40 trials per alphabet, 400 over
/// 10 alphabets. Seeded (a libtorch generator), so the same seed gives the same 400 trials to every method.
/// </summary>
public static class WithinAlphabetOneShot
{
    public const int Ways = 20;
    public const int RunsPerAlphabet = 2;
    /// <summary>The seed of the test trials of our tables (the same for every method).</summary>
    public const ulong TestSeed = 20_150_706;

    /// <summary>The runs over every alphabet of `data`, `runsPerAlphabet` each, in alphabet order.</summary>
    public static IReadOnlyList<OneShotRun> Runs(OmniglotDrawings data, ulong seed = TestSeed, int ways = Ways, int runsPerAlphabet = RunsPerAlphabet)
    {
        if (ways < 2) throw new ArgumentOutOfRangeException(nameof(ways), ways, "at least 2 ways");
        if (runsPerAlphabet < 1) throw new ArgumentOutOfRangeException(nameof(runsPerAlphabet), runsPerAlphabet, "at least one run per alphabet");
        if (data.Drawers.Count < 2) throw new ArgumentException($"{data.Name}: one-shot runs need two drawers, it has {data.Drawers.Count}");
        var small = Enumerable.Range(0, data.Alphabets.Count).Where(a => data.CharactersOf(a).Count < ways)
            .Select(a => $"{data.Alphabets[a]} ({data.CharactersOf(a).Count})").ToArray();
        if (small.Length > 0) throw new ArgumentException($"{data.Name}: {ways}-way within-alphabet runs need {ways} characters per alphabet; too few in {string.Join(", ", small)}");

        using var generator = new Generator(seed);
        var runs = new List<OneShotRun>();
        for (var a = 0; a < data.Alphabets.Count; a++)
            for (var r = 0; r < runsPerAlphabet; r++)
            {
                var pool = data.CharactersOf(a).ToArray();
                var drawers = Enumerable.Range(0, data.Drawers.Count).ToArray();
                double[] u;
                using (var t = torch.rand([ways + 2L], generator, ScalarType.Float64)) u = t.ToArray<double>();
                var characters = PartialShuffle(pool, ways, u, 0);
                var two = PartialShuffle(drawers, 2, u, ways);
                runs.Add(new OneShotRun(a, characters, two[0], two[1],
                    characters.Select(c => data.Row(c, two[0])).ToArray(), characters.Select(c => data.Row(c, two[1])).ToArray()));
            }
        return runs;
    }

    /// <summary>The first k of a partial Fisher–Yates shuffle of `items` driven by u[offset …].</summary>
    private static int[] PartialShuffle(int[] items, int k, double[] u, int offset)
    {
        for (var i = 0; i < k; i++)
        {
            var j = i + Math.Min((int)(u[offset + i] * (items.Length - i)), items.Length - i - 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
        return items[..k];
    }

    /// <summary>
    /// Per trial, 1 when the test image's most similar candidate is its own character, else 0, from scores
    /// [runs, ways (test), ways (candidates)] (higher = more similar), run by run.
    /// </summary>
    public static double[] Correct(Tensor scores)
    {
        if (scores.dim() != 3 || scores.size(1) != scores.size(2))
            throw new ArgumentException($"scores must be [runs, ways, ways], got [{string.Join(", ", scores.shape)}]");
        using var best = scores.argmax(2);
        var ways = (int)scores.size(1);
        return best.ToArray<long>().Select((b, i) => b == i % ways ? 1.0 : 0.0).ToArray();
    }

    /// <summary>Scores of the 1-nearest-neighbour pixel baseline: minus the squared Euclidean distance between drawings.</summary>
    public static Tensor PixelScores(OmniglotDrawings data, IReadOnlyList<OneShotRun> runs)
    {
        using var scope = torch.NewDisposeScope();
        var test = data.Input(runs.SelectMany(r => r.TestRows).ToArray()).flatten(1);
        var candidates = data.Input(runs.SelectMany(r => r.CandidateRows).ToArray()).flatten(1);
        var ways = runs.Count == 0 ? 0 : runs[0].Ways;
        var d = torch.nn.functional.cdist(test.view(runs.Count, ways, -1), candidates.view(runs.Count, ways, -1));
        return d.square().neg().MoveToOuterDisposeScope();
    }
}
