using MetaNotebooks.Data;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// Whether a MetaNet's example-level fast weights do anything, measured on fixed test episodes (those of
/// <see cref="EpisodeTrainer.EvaluationEpisodes"/>, drawn one at a time as the reproduction scores them, so the first
/// K are the reproduction's first K):
/// <list type="bullet">
/// <item>per layer of b, the fraction of the fast branch's pre-activations above 0 on the queries (conv1…conv5, fc1;
/// the head has no ReLU) and the fast branch's share of the layer's output, Σ|fast| / (Σ|slow| + Σ|fast| [+ Σ|MetaNet+'s
/// task branch|]) (conv1…conv5, fc1, head), averaged over the episodes (<see cref="AugmentedConvNet.BranchActivity"/>);</item>
/// <item>each episode's accuracy as the model runs; with the example-level fast weights zeroed (the memory M set
/// to 0, so every W*ⱼ = 0: b runs on its slow branches and, in MetaNet+, its task-level ones; u and the attention are
/// untouched); and with only the hidden layers' example-level fast weights zeroed (conv1…conv5 and fc1; the head's
/// kept): paired on the same episodes.</item>
/// </list>
/// Labels are drawn afresh in every episode, so only the fast weights can tell b which output is which class: zeroing
/// all of them leaves b at chance whatever its trunk does. Zeroing the hidden layers' alone asks the question that
/// separates a MetaNet from a slow network with a generated head: does the trunk's fast part matter?
/// </summary>
public sealed record MetaNetMechanism(
    /// <summary>Fraction of the fast branch's pre-activations above 0, per hidden layer of <see cref="HiddenLayers"/>.</summary>
    IReadOnlyList<double> FastActiveFraction,
    /// <summary>The fast branch's share of each layer's output, per layer of <see cref="Layers"/>.</summary>
    IReadOnlyList<double> FastOutputShare,
    /// <summary>Accuracy per episode (0…1), as the model runs.</summary>
    IReadOnlyList<double> Accuracy,
    /// <summary>Accuracy per episode (0…1) with the example-level fast weights zeroed.</summary>
    IReadOnlyList<double> AccuracyWithoutFastWeights,
    /// <summary>Accuracy per episode (0…1) with the hidden layers' example-level fast weights zeroed, the head's kept.</summary>
    IReadOnlyList<double> AccuracyWithoutHiddenFastWeights)
{
    public static readonly IReadOnlyList<string> HiddenLayers = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1"];
    public static readonly IReadOnlyList<string> Layers = [.. HiddenLayers, "head"];

    /// <summary>Mean accuracy ± 95% CI in percent.</summary>
    public Summary With => EpisodeTrainer.Percent(Accuracy.ToArray());
    public Summary Without => EpisodeTrainer.Percent(AccuracyWithoutFastWeights.ToArray());
    public Summary WithoutHidden => EpisodeTrainer.Percent(AccuracyWithoutHiddenFastWeights.ToArray());
    /// <summary>What zeroing the fast weights costs, in points: the mean and 95% CI of the per-episode differences.</summary>
    public Summary Cost => Paired(AccuracyWithoutFastWeights);
    /// <summary>What zeroing the hidden layers' fast weights costs, in points (paired, as <see cref="Cost"/>).</summary>
    public Summary HiddenCost => Paired(AccuracyWithoutHiddenFastWeights);

    private Summary Paired(IReadOnlyList<double> zeroed) => EpisodeTrainer.Percent(Accuracy.Zip(zeroed, (a, b) => a - b).ToArray());

    /// <summary>Measures `episodes` fixed test episodes of `ways`-way `shots`-shot with `queries` queries per class.</summary>
    public static MetaNetMechanism Measure(MetaNet metanet, ClassIndexedDataset test, int ways, int shots, int queries, int episodes,
                                           long seed = EpisodeTrainer.EvaluationSeed)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "MetaNetMechanism needs at least one test episode.");
        RequireFull(metanet);
        using var sampler = EpisodeTrainer.EvaluationEpisodes(test, ways, shots, queries, seed);
        var active = new double[HiddenLayers.Count];
        var share = new double[Layers.Count];
        var with = new List<double>();
        var without = new List<double>();
        var withoutHidden = new List<double>();
        for (var e = 0; e < episodes; e++)
        {
            using var scope = NewDisposeScope();
            using var batch = sampler.Sample(1);
            var (activity, accuracy, zeroed, zeroedHidden) = Episode(metanet, batch, ways);
            for (var l = 0; l < active.Length; l++) active[l] += activity.Active[l] / episodes;
            for (var l = 0; l < share.Length; l++) share[l] += activity.Share[l] / episodes;
            with.Add(accuracy);
            without.Add(zeroed);
            withoutHidden.Add(zeroedHidden);
        }
        return new MetaNetMechanism(active, share, with, without, withoutHidden);
    }

    private static void RequireFull(MetaNet metanet)
    {
        if (metanet.Options.Architecture != MetaNetArchitecture.Full)
            throw new NotSupportedException($"MetaNetMechanism measures the Omniglot model's layers ({string.Join(", ", HiddenLayers)}, head); this MetaNet is {metanet.Options.Architecture}.");
    }

    /// <summary>One episode (a batch of one task): the fast branch's activity on its queries; its accuracy as it runs, without the fast weights, without the hidden layers' fast weights.</summary>
    public static ((double[] Active, double[] Share) Activity, double Accuracy, double AccuracyWithoutFastWeights, double AccuracyWithoutHiddenFastWeights) Episode(MetaNet metanet, TaskBatch batch, int ways)
    {
        if (batch.Count != 1) throw new ArgumentException($"MetaNetMechanism.Episode: one task at a time, got {batch.Count}.");
        RequireFull(metanet);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (xs, ys, xq, yq) = (batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], batch.QueryTargets[0]);
        var information = metanet.Information(xs, ys, ways);
        var fast = metanet.Generate(information, ways);
        var run = metanet.Queries(information, fast, xs, xq, ways);
        var branches = metanet.BaseBranches(metanet.ExampleFastWeights(run, ways), fast.BaseTask, ways);
        var (activeTable, shareTable) = AugmentedConvNet.BranchActivity(xq, branches);
        var index = metanet.ExampleBranchIndex;
        var zeroed = metanet.Queries(information, fast with { MemoryConv = zeros_like(fast.MemoryConv), MemoryFc = zeros_like(fast.MemoryFc) }, xs, xq, ways);
        // Memory Fc's coordinates are fc1's then the head's (MetaNetModel.BaseFcLayout): keep the head's.
        var fc1 = metanet.Network.Base.Fc1Weight.numel();
        var hiddenZeroed = fast.MemoryFc.clone();
        hiddenZeroed.narrow(-1, 0, fc1).zero_();
        var zeroedHidden = metanet.Queries(information, fast with { MemoryConv = zeros_like(fast.MemoryConv), MemoryFc = hiddenZeroed }, xs, xq, ways);
        double Accuracy(Tensor logits) => logits.argmax(1).eq(yq).to(ScalarType.Float64).mean().item<double>();
        return ((activeTable[index].ToArray<double>(), shareTable[index].ToArray<double>()), Accuracy(run.Logits), Accuracy(zeroed.Logits), Accuracy(zeroedHidden.Logits));
    }
}
