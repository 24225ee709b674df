using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Experiments;

/// <summary>
/// The Omniglot reproductions of Matching, Relation and Siamese networks: their training episodes and learners.
/// (Prototypical networks: <see cref="Prototypical"/>.) All share <see cref="MetricOmniglot"/> and its test episodes.
/// </summary>
public static class MetricMethods
{
    private static readonly (int, int)[] OneShot = [(5, 1), (20, 1)];
    private static readonly (int, int)[] FiveShot = [(5, 5), (20, 5)];

    /// <summary>
    /// Matching networks: the paper gives neither the training way nor the optimiser; we train one model per shot on
    /// 20-way episodes with 5 queries per class, Adam 1e-3 (no decay). The kernel defaults to the re-implementations'
    /// support-normalised form (see <see cref="MatchingKernel"/>); the paper's plain cosine is the other choice.
    /// </summary>
    public static MetricOmniglotConfig Matching(int iterations1, int iterations5, bool fce, long seed = 1,
                                                MatchingKernel kernel = MatchingKernel.SupportNormalized) => new()
    {
        Experiment = fce ? "matching-fce-omniglot" : "matching-omniglot",
        PaperId = "vinyals2016-matching",
        Method = fce ? "Matching Nets FCE" : "Matching Nets",
        Seed = seed,
        Variant = KernelName(kernel),
        PaperBudget = "training way, batch and length not given in the paper",
        Runs =
        [
            new("1shot", Episodes(iterations1, 20, 1, 5, seed, halveEvery: 0), OneShot),
            new("5shot", Episodes(iterations5, 20, 5, 5, seed, halveEvery: 0), FiveShot),
        ],
    };

    public static MatchingNetwork NewMatching(bool fce, long seed, MatchingKernel kernel = MatchingKernel.SupportNormalized)
    {
        using var g = new Generator((ulong)seed);
        return new MatchingNetwork(new ConvEncoder(generator: g), fce, generator: g, kernel: kernel);
    }

    /// <summary>The kernel as the results state it beside each number.</summary>
    public static string KernelName(MatchingKernel kernel) => kernel switch
    {
        MatchingKernel.Cosine => "cosine kernel (Eq. 2 as printed)",
        MatchingKernel.SupportNormalized => "kernel f·g/‖g‖ (support-normalised cosine, as the public re-implementations)",
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown matching kernel"),
    };

    /// <summary>The CLI's and the notebooks' names of the kernels: "cosine", "support-normalized".</summary>
    public static MatchingKernel ParseKernel(string name) => name switch
    {
        "cosine" => MatchingKernel.Cosine,
        "support-normalized" => MatchingKernel.SupportNormalized,
        _ => throw new ArgumentException($"unknown matching kernel '{name}': use cosine (the paper's Eq. 2) or support-normalized (f·g/‖g‖, the re-implementations')"),
    };

    /// <summary>
    /// Relation networks: the authors' code trains one model per setting; we train one per shot on 20-way episodes
    /// with the README's 20-way queries (10 for 1-shot, 5 for 5-shot), Adam 1e-3 halved every 100,000 episodes,
    /// gradient norm clipped to 0.5.
    /// </summary>
    public static MetricOmniglotConfig Relation(int iterations1, int iterations5, long seed = 1) => new()
    {
        Experiment = "relation-omniglot",
        PaperId = "sung2018-relation",
        Method = "Relation Net",
        Seed = seed,
        PaperBudget = "1,000,000 episodes per setting, one task per update",
        Runs =
        [
            new("1shot", Episodes(iterations1, 20, 1, 10, seed, halveEvery: 100_000) with { ClipGradNorm = 0.5 }, OneShot),
            new("5shot", Episodes(iterations5, 20, 5, 5, seed, halveEvery: 100_000) with { ClipGradNorm = 0.5 }, FiveShot),
        ],
    };

    public static RelationNetwork NewRelation(long seed)
    {
        using var g = new Generator((ulong)seed);
        return new RelationNetwork(generator: g);
    }

    /// <summary>
    /// Siamese networks in the 28×28 Vinyals setting: the 4-block encoder, weighted L1 + sigmoid, BCE over all
    /// (query, support) pairs of 20-way 1-shot episodes with 5 queries per class; one model for every setting.
    /// </summary>
    public static MetricOmniglotConfig Siamese(int iterations, long seed = 1) => new()
    {
        Experiment = "siamese-omniglot",
        PaperId = "koch2015-siamese",
        Method = "Convolutional Siamese Net",
        Seed = seed,
        PaperBudget = "Koch: up to 200 epochs over 30k-150k pairs ×8 affine distortions; the 28×28 rows' budget is not given",
        Runs = [new("pairs", Episodes(iterations, 20, 1, 5, seed, halveEvery: 0), [(5, 1), (5, 5), (20, 1), (20, 5)])],
    };

    public static SiameseNetwork NewSiamese(long seed)
    {
        using var g = new Generator((ulong)seed);
        return SiameseNetwork.Convolutional(g);
    }

    private static EpisodeTrainingOptions Episodes(int iterations, int ways, int shots, int queries, long seed, int halveEvery) => new()
    {
        Iterations = iterations, Ways = ways, Shots = shots, Queries = queries, LearningRate = 1e-3, HalveEvery = halveEvery, Seed = seed * 10 + shots,
    };
}
