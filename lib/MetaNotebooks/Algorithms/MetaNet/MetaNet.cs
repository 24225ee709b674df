using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// Meta Networks (Munkhdalai &amp; Yu, ICML 2017) as the authors' Omniglot model <c>MetaNetFull</c>
/// (docs/metanet.md §3–§5). One episode, given support (x'ᵢ, y'ᵢ), i = 1…N, and queries xⱼ, j = 1…L:
/// <list type="number">
/// <item>Task level (Step A): gradients of u's cross-entropy on consecutive chunks of the support set are
/// preprocessed (<see cref="LogAndSign"/>) and fed to the LSTM d, one chunk per step; its last output is Q*. Keys are
/// R = u(x'; Q, Q*) and u(xⱼ; Q, Q*), each layer ReLU(slow) + ReLU(fast), the key layer a plain sum.</item>
/// <item>Example level (Step B): each support example's gradient ∇ᵢ of b's slow cross-entropy, preprocessed, goes
/// through m coordinate-wise: row i of the memory M is W*ᵢ = m(∇ᵢ).</item>
/// <item>Queries (Step C): pⱼ = softmax(cos(R, rⱼ)), W*ⱼ = Σᵢ pⱼᵢ Mᵢ, and b runs on xⱼ with W and W*ⱼ in every layer
/// (ReLU(slow) + ReLU(fast); logits summed). The loss is the SUM of the queries' cross-entropies (spec §9.6).</item>
/// </list>
/// The meta-information is first order (no graph through ∇ᵢ or through d's and m's inputs, spec §9.7), so W learns
/// only through b's slow branches, Z through M, Q through the attention, G through Q*. The Omniglot model has no batch
/// norm or dropout: training and evaluation run the same function (evaluation still needs gradients for Steps A–B,
/// which run under enable_grad).
/// </summary>
public sealed class MetaNet : IEpisodeLearner, IDisposable
{
    private readonly Generator pairs;

    public MetaNet(MetaNetOptions? options = null, ScalarType? dtype = null)
    {
        Options = options ?? new MetaNetOptions();
        Network = new MetaNetModel(Options, dtype);
        pairs = new Generator(unchecked((ulong)Options.Seed * 7919UL + 1UL));
    }

    public MetaNetOptions Options { get; }
    public MetaNetModel Network { get; }
    public string Name => Options.Name;
    nn.Module IEpisodeLearner.Model => Network;

    /// <summary>One episode: support x' [N, C, H, W] with labels y' [N] (0…n−1), queries [L, C, H, W].</summary>
    public MetaNetEpisode Run(Tensor supportInputs, Tensor supportLabels, Tensor queryInputs, int ways)
    {
        using var scope = NewDisposeScope();
        var net = Network;
        var slow = net.Base.Slow(ways);

        // Step A: u's keys, with task-level fast weights unless MetaNet−.
        var embedding = net.Embedding.Slow(ways);
        var taskFast = Options.TaskLevelFastWeights ? TaskFastWeights(embedding, supportInputs, supportLabels) : null;
        IReadOnlyList<WeightSet> keyBranches = taskFast is null ? [embedding] : [embedding, taskFast];
        var supportKeys = AugmentedConvNet.Key(supportInputs, keyBranches);
        var queryKeys = AugmentedConvNet.Key(queryInputs, keyBranches);

        // Step B: the memory, one row of fast weights per support example.
        var fcLayout = net.BaseFcLayout(ways);
        var gradients = MetaInformation.PerExampleGradients(slow, supportInputs, supportLabels);
        var infoConv = LogAndSign.Apply(net.ConvLayout.Flatten(gradients.Convs, leading: 1));
        var infoFc = LogAndSign.Apply(fcLayout.Flatten([gradients.Fc1, gradients.Head!], leading: 1));
        var memoryConv = CoordinateMlp.Generate(net.ExampleConv, infoConv);
        var memoryFc = CoordinateMlp.Generate(net.ExampleFc, infoFc);
        var baseTaskFast = Options.BaseTaskFastWeights ? BaseTaskFastWeights(infoConv, infoFc, fcLayout, gradients, supportInputs.size(0)) : null;

        // Step C: read per query, then b with slow + fast (+ MetaNet+'s task) branches.
        var attention = CosineAttention.Weights(queryKeys, supportKeys);
        var logits = Options.BatchedQueries
            ? QueriesBatched(queryInputs, slow, attention, memoryConv, memoryFc, fcLayout, baseTaskFast)
            : QueriesOneByOne(queryInputs, slow, queryKeys, supportKeys, memoryConv, memoryFc, fcLayout, baseTaskFast);

        var episode = new MetaNetEpisode(logits, supportKeys, queryKeys, attention, memoryConv, memoryFc, infoConv, infoFc, taskFast, baseTaskFast);
        foreach (var t in episode.Tensors) t.MoveToOuterDisposeScope();
        return episode;
    }

    /// <summary>Q* (spec §3.3 Step A, §4.3): d's last output over the chunked (or paired) meta-information of u.</summary>
    private WeightSet TaskFastWeights(WeightSet embedding, Tensor x, Tensor y)
    {
        var net = Network;
        Tensor convSteps, fcSteps;
        if (Options.EmbeddingLoss == EmbeddingLoss.CrossEntropy)
        {
            // u's head gradient would feed d rows whose output is never used; d is coordinate-wise, so leaving them out
            // changes no other row (spec §9.16).
            var g = MetaInformation.PerExampleGradients(embedding, x, y, withHead: false);
            var chunks = MetaInformation.Chunks((int)x.size(0), Options.TaskSteps);
            convSteps = MetaInformation.ChunkMeans(net.ConvLayout.Flatten(g.Convs, leading: 1), chunks);
            fcSteps = MetaInformation.ChunkMeans(g.Fc1.flatten(1), chunks);
        }
        else
        {
            var labels = y.ToArray<long>();
            var sampled = MetaInformation.SamplePairs(labels, Options.ContrastivePairs, pairs);
            var g = MetaInformation.PairGradients(embedding, x, sampled);
            convSteps = net.ConvLayout.Flatten(g.Convs, leading: 1);
            fcSteps = g.Fc1.flatten(1);
        }
        var convs = net.ConvLayout.Split(net.TaskConv!.Generate(LogAndSign.Apply(convSteps)));
        var fc1 = net.TaskFc!.Generate(LogAndSign.Apply(fcSteps)).view(embedding.Fc1.shape);
        return new WeightSet(convs, fc1, null);
    }

    /// <summary>
    /// MetaNet+ (spec §8.2, reconstructed): b's own task-level fast weights, from its per-example gradients averaged
    /// over the same chunks as Step A (the chunk mean of the raw gradients, then LogAndSign) and LSTMs like d.
    /// </summary>
    private WeightSet BaseTaskFastWeights(Tensor infoConv, Tensor infoFc, WeightLayout fcLayout, WeightSet gradients, long n)
    {
        var net = Network;
        var chunks = MetaInformation.Chunks((int)n, Options.TaskSteps);
        var convSteps = MetaInformation.ChunkMeans(net.ConvLayout.Flatten(gradients.Convs, leading: 1), chunks);
        var fcSteps = MetaInformation.ChunkMeans(fcLayout.Flatten([gradients.Fc1, gradients.Head!], leading: 1), chunks);
        var convs = net.ConvLayout.Split(net.BaseTaskConv!.Generate(LogAndSign.Apply(convSteps)));
        var fc = fcLayout.Split(net.BaseTaskFc!.Generate(LogAndSign.Apply(fcSteps)));
        return new WeightSet(convs, fc[0], fc[1]);
    }

    /// <summary>The branches of b's query pass: slow (unless fast-only), the example-level fast weights, MetaNet+'s task level.</summary>
    private List<WeightSet> QueryBranches(WeightSet slow, WeightSet exampleFast, WeightSet? baseTaskFast)
    {
        var branches = new List<WeightSet>();
        if (!Options.FastOnlyBaseLearner) branches.Add(slow);
        branches.Add(exampleFast);
        if (baseTaskFast is not null) branches.Add(baseTaskFast);
        return branches;
    }

    /// <summary>All L queries at once (spec §10.3): W* = p·M [L, P], then b with per-query kernels as grouped convolutions.</summary>
    private Tensor QueriesBatched(Tensor x, WeightSet slow, Tensor attention, Tensor memoryConv, Tensor memoryFc, WeightLayout fcLayout, WeightSet? baseTaskFast)
    {
        var convs = Network.ConvLayout.Split(CosineAttention.Read(attention, memoryConv));
        var fc = fcLayout.Split(CosineAttention.Read(attention, memoryFc));
        return AugmentedConvNet.Logits(x, QueryBranches(slow, new WeightSet(convs, fc[0], fc[1]), baseTaskFast));
    }

    /// <summary>The authors' query loop (spec §3.3 Step C): each query reads its own W*ⱼ and runs b alone.</summary>
    private Tensor QueriesOneByOne(Tensor x, WeightSet slow, Tensor queryKeys, Tensor supportKeys, Tensor memoryConv, Tensor memoryFc, WeightLayout fcLayout, WeightSet? baseTaskFast)
    {
        var logits = new List<Tensor>();
        for (var j = 0; j < x.size(0); j++)
        {
            var r = queryKeys[j];
            var convs = Network.ConvLayout.Split(CosineAttention.ReadOne(r, supportKeys, memoryConv));
            var fc = fcLayout.Split(CosineAttention.ReadOne(r, supportKeys, memoryFc));
            logits.Add(AugmentedConvNet.Logits(x.narrow(0, j, 1), QueryBranches(slow, new WeightSet(convs, fc[0], fc[1]), baseTaskFast)));
        }
        return cat(logits, 0);
    }

    /// <summary>Query logits of every task: [tasks, L, n] (the evaluator's scores).</summary>
    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var scores = new List<Tensor>();
        for (var t = 0; t < batch.Count; t++)
        {
            using var inner = NewDisposeScope();
            var episode = Run(batch.SupportInputs[t], batch.SupportTargets[t], batch.QueryInputs[t], ways);
            scores.Add(episode.Logits.MoveToOuterDisposeScope());
        }
        return stack(scores, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training objective: per task the SUM over its queries of the cross-entropy (spec §9.6; 50 terms for the
    /// Omniglot script), averaged over the tasks of the batch (the authors use one episode per update).
    /// </summary>
    public Tensor Loss(TaskBatch batch, int ways)
    {
        if (ways != Options.Ways)
            throw new ArgumentException($"MetaNet trains its {Options.Ways}-way heads; {ways}-way episodes are for evaluation only (the test head is never trained, spec §7.3).");
        using var scope = NewDisposeScope();
        var losses = new List<Tensor>();
        for (var t = 0; t < batch.Count; t++)
        {
            using var inner = NewDisposeScope();
            var episode = Run(batch.SupportInputs[t], batch.SupportTargets[t], batch.QueryInputs[t], ways);
            losses.Add(F.cross_entropy(episode.Logits, batch.QueryTargets[t], reduction: nn.Reduction.Sum).MoveToOuterDisposeScope());
        }
        return stack(losses, 0).mean().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Network.Dispose();
        pairs.Dispose();
    }
}
