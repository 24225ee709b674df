using System.Globalization;
using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Tasks;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

// MetaNet (docs/metanet.md) has no PyTorch peer in ../shared/bench: no reference implementation exists outside the
// authors' Chainer code, so these rows report our side only (Peer = null), with a breakdown of where the time goes.

/// <summary>
/// The episode of the authors' Omniglot script (5-way 1-shot, 10 queries per class, on random 1×28×28 images) or, with
/// `miniImageNet`, of their Mini-ImageNet script (the MetaNetPartial model, 10-way 1-shot, 15 queries per class, on
/// random 3×84×84 images).
/// </summary>
internal sealed class MetaNetBenchEpisode : IDisposable
{
    public MetaNetBenchEpisode(BenchSettings s, bool batchedQueries = true, bool miniImageNet = false)
    {
        // Quick mode (the smoke test) shrinks the network and the query set: it checks that the benchmark runs, not its time.
        Options = miniImageNet
            ? MetaNetOptions.MiniImageNet with { Filters = s.Pick(32, 4), Seed = 1, BatchedQueries = batchedQueries }
            : new MetaNetOptions { Ways = 5, Filters = s.Pick(64, 8), Seed = 1, BatchedQueries = batchedQueries };
        Ways = Options.Ways;
        Queries = s.Pick(miniImageNet ? 15 : 10, 2);
        Learner = new MetaNet(Options);
        using var g = new Generator(3);
        var ys = tensor(Enumerable.Range(0, Ways).Select(i => (long)i).ToArray(), [1, Ways]);
        var yq = tensor(Enumerable.Range(0, Ways * Queries).Select(i => (long)(i / Queries)).ToArray(), [1, Ways * Queries]);
        long[] image = [Options.InChannels, Options.ImageSize, Options.ImageSize];
        Batch = new TaskBatch(rand([1, Ways, .. image], g), ys, rand([1, Ways * Queries, .. image], g), yq);
        foreach (var t in new[] { Batch.SupportInputs, Batch.SupportTargets, Batch.QueryInputs, Batch.QueryTargets }) t.DetachFromDisposeScope();
    }

    public MetaNetOptions Options { get; }
    public int Ways { get; }
    public int Queries { get; }
    public MetaNet Learner { get; }
    public TaskBatch Batch { get; }
    public Tensor Support => Batch.SupportInputs[0];
    public Tensor SupportLabels => Batch.SupportTargets[0];
    public Tensor QueryInputs => Batch.QueryInputs[0];
    public Tensor QueryLabels => Batch.QueryTargets[0];

    public void Dispose()
    {
        Learner.Dispose();
        Batch.Dispose();
    }
}

/// <summary>
/// One MetaNet training episode as <see cref="Experiments.MetaNetOmniglot"/> trains (the authors' train_omniglot.py):
/// <see cref="MetaNet.Loss"/> on 5-way 1-shot with 10 queries per class (the 64-filter Omniglot model, P_conv = 148,032
/// coordinates), backward, global clip at 10, an Adam step. The breakdown splits a second run of the same episode at
/// the generators' outputs (<see cref="MetaNetFastWeights.Leaves"/>): the meta-information (both networks' loss
/// gradients and LogAndSign), m and d forward and backward, the query pass (keys, attention, read, b with slow and fast
/// branches) forward and backward, and the optimiser.
/// </summary>
public sealed class MetaNetEpisodeBenchmark : IBenchmark
{
    public string Name => "metanet.episode";

    public string Measures => "one MetaNet training episode, 5-way 1-shot 10 queries per class, 64 filters, random 1×28×28: MetaNet.Loss, " +
                              "backward, clip 10, Adam step; breakdown per phase (no PyTorch peer: none exists for MetaNet)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var episode = new MetaNetBenchEpisode(s);
        return Time(s, episode);
    }

    /// <summary>The whole training episode, then its phases (shared with <see cref="MetaNetMiniImageNetEpisodeBenchmark"/>).</summary>
    internal static Measurement Time(BenchSettings s, MetaNetBenchEpisode episode)
    {
        using var outer = NewDisposeScope();
        var metanet = episode.Learner;
        var parameters = metanet.Network.parameters();
        using var optimizer = new optim.Adam(parameters, MetaNetOptions.LearningRate);
        void Step()
        {
            EpisodeTrainer.ClipGradNorm(parameters, MetaNetOptions.ClipGradNorm);
            optimizer.step();
        }

        var whole = Harness.Run(() =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var loss = metanet.Loss(episode.Batch, episode.Ways);
            loss.backward();
            Step();
            loss.item<double>();
        }, Harness.Macro(warmup: s.Pick(2, 1), samples: s.Pick(5, 1)));

        // The same episode split into phases, timed one after the other (same work: the split only cuts the graph at
        // the generated tensors and carries their gradients on, see MetaNetFastWeights.Leaves).
        var parts = new Dictionary<string, List<double>>();
        for (var k = 0; k < s.Pick(3, 1); k++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var start = Harness.Now();   // the run's clock (wall or CPU), as the whole episode's time
            void Lap(string part)
            {
                if (!parts.TryGetValue(part, out var list)) parts[part] = list = [];
                var now = Harness.Now();
                list.Add(now - start);
                start = now;
            }
            var info = metanet.Information(episode.Support, episode.SupportLabels, episode.Ways);
            Lap("meta-information");
            var (memoryConv, memoryFc) = metanet.Memory(info);
            Lap("m forward");
            var task = metanet.TaskFastWeights(info);
            Lap("d forward");
            var generated = new MetaNetFastWeights(memoryConv, memoryFc, task, null);
            var leaves = generated.Leaves();
            var e = metanet.Queries(info, leaves, episode.Support, episode.QueryInputs, episode.Ways);
            var loss = F.cross_entropy(e.Logits, episode.QueryLabels, reduction: nn.Reduction.Sum);
            loss.item<double>();
            Lap("query pass forward");
            loss.backward();
            Lap("query pass backward");
            ((memoryConv * leaves.MemoryConv.grad!).sum() + (memoryFc * leaves.MemoryFc.grad!).sum()).backward();
            Lap("m backward");
            if (task is not null)
            {
                var surrogate = task.Tensors.Zip(leaves.Task!.Tensors, (t, l) => (t * l.grad!).sum()).Aggregate((a, b) => a + b);
                surrogate.backward();
            }
            Lap("d backward");
            Step();
            Lap("clip and Adam step");
        }
        var breakdown = parts.ToDictionary(p => p.Key, p => Stats.Median(p.Value));
        var total = breakdown.Values.Sum();
        var phases = string.Join(", ", breakdown.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0.000} s ({100 * p.Value / total:0}%)")));
        var note = string.Create(CultureInfo.InvariantCulture, $"{1 / whole.Mean:0.000} episodes/s; phases (separate run, sum {total:0.00} s): {phases}");
        return whole with { Note = note, Breakdown = breakdown };
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

/// <summary>
/// One training episode of the Mini-ImageNet model as <see cref="Experiments.MetaNetMiniImageNet"/> trains (the authors'
/// train_mini_imagenet.py): MetaNetPartial (32 filters, batch-norm trunk, P_conv = 18,432, P_fc = 85,824), 10-way 1-shot
/// with 15 queries per class (L = 150), <see cref="MetaNet.Loss"/>, backward, clip 10, Adam step; the same breakdown as
/// <see cref="MetaNetEpisodeBenchmark"/>. What sizes a Mini-ImageNet training budget.
/// </summary>
public sealed class MetaNetMiniImageNetEpisodeBenchmark : IBenchmark
{
    public string Name => "metanet.miniimagenet.episode";

    public string Measures => "one MetaNet Mini-ImageNet training episode (MetaNetPartial, 32 filters), 10-way 1-shot 15 queries per class, random 3×84×84: " +
                              "MetaNet.Loss, backward, clip 10, Adam step; breakdown per phase (no PyTorch peer)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var episode = new MetaNetBenchEpisode(s, miniImageNet: true);
        return MetaNetEpisodeBenchmark.Time(s, episode);
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}

/// <summary>
/// Step C of a MetaNet episode (docs/metanet.md §3.3, §10.3) with the memory and keys given: the attention of the 50
/// queries over the 5 support keys, the read W*ⱼ = Σᵢ pⱼᵢ Mᵢ (148,032 + 4,416 coordinates per query) and b with slow and
/// fast branches, the summed cross-entropy and its backward. Timed batched (one W* matrix, grouped convolutions with one
/// group per query, bmm) and as the authors' loop (one query at a time); the row's time is the batched one, the loop's
/// is in the breakdown.
/// </summary>
public sealed class MetaNetReadBenchmark : IBenchmark
{
    public string Name => "metanet.read";

    public string Measures => "MetaNet's query pass, 5-way 1-shot 50 queries, 64 filters: attention, read W* = pM, b with slow + fast branches, " +
                              "summed CE, backward; batched (grouped conv) vs the per-query loop in the breakdown (no PyTorch peer)";

    public Measurement RunOurs(BenchSettings s)
    {
        using var outer = NewDisposeScope();
        using var batched = new MetaNetBenchEpisode(s, batchedQueries: true);
        using var loop = new MetaNetBenchEpisode(s, batchedQueries: false);   // the same seed: the same parameters
        var info = batched.Learner.Information(batched.Support, batched.SupportLabels, batched.Ways);
        MetaNetFastWeights fast;
        using (no_grad()) fast = batched.Learner.Generate(info, batched.Ways);

        Action Pass(MetaNetBenchEpisode e, List<Tensor>? logits = null) => () =>
        {
            using var scope = NewDisposeScope();
            var leaves = fast.Leaves();
            var episode = e.Learner.Queries(info, leaves, e.Support, e.QueryInputs, e.Ways);
            var loss = F.cross_entropy(episode.Logits, e.QueryLabels, reduction: nn.Reduction.Sum);
            loss.backward();
            logits?.Add(episode.Logits.detach().MoveToOuterDisposeScope());
            foreach (var p in e.Learner.Network.parameters()) p.grad = null;
        };
        var check = new List<Tensor>();
        Pass(batched, check)();
        Pass(loop, check)();
        var difference = ((check[0] - check[1]).abs().max() / check[1].abs().max()).item<double>();

        var plan = Harness.Macro(warmup: s.Pick(2, 1), samples: s.Pick(5, 1));
        var b = Harness.Run(Pass(batched), plan);
        var l = Harness.Run(Pass(loop), plan);
        var note = string.Create(CultureInfo.InvariantCulture,
            $"batched {b.Mean:0.000} s, per-query loop {l.Mean:0.000} s: batched is {l.Mean / b.Mean:0.00}× faster; max |Δ logits| / max |logits| = {difference:0.0e+0}");
        return b with
        {
            Note = note,
            Breakdown = new Dictionary<string, double> { ["batched"] = b.Mean, ["per-query loop"] = l.Mean },
        };
    }

    public PeerCommand? Peer(BenchSettings s) => null;
}
