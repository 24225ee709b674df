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
/// <para>
/// The Mini-ImageNet model (<see cref="MetaNetArchitecture.Partial"/>, spec §7.1) runs the same steps on the features
/// of each network's slow batch-norm trunk instead of the images: every step above that reads images calls the trunk
/// once on its whole batch, as the authors' code (b: support set for ∇ᵢ, queries; u: support set for d's gradients,
/// support set and queries for the keys), so in training mode batch norm normalises each of these batches with its own
/// statistics and updates its running averages, and in evaluation mode uses the running averages. Only the augmented
/// layers' gradients are meta-information (the trunk's features are data there); the trunks learn through the query
/// pass (b) and the keys (u).
/// </para>
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
        CheckImages(supportInputs, "support");
        CheckImages(queryInputs, "query");
        using var scope = NewDisposeScope();
        var information = Information(supportInputs, supportLabels, ways);
        var fast = Generate(information, ways);
        var episode = Queries(information, fast, supportInputs, queryInputs, ways);
        foreach (var t in episode.Tensors) t.MoveToOuterDisposeScope();
        return episode;
    }

    /// <summary>The model's networks read [B, C, S, S] images of its architecture only (1×28×28 Full, 3×84×84 Partial).</summary>
    private void CheckImages(Tensor images, string what)
    {
        long[] expected = [Options.InChannels, Options.ImageSize, Options.ImageSize];
        if (images.dim() != 4 || !images.shape[1..].SequenceEqual(expected))
            throw new ArgumentException($"MetaNet ({Options.Architecture}): {what} images must be [B, {string.Join(", ", expected)}], got [{string.Join(", ", images.shape)}]; " +
                                        $"the {MetaNetArchitecture.Full} model reads 1×28×28 Omniglot images, the {MetaNetArchitecture.Partial} model (MetaNetOptions.MiniImageNet) 3×84×84 Mini-ImageNet ones.");
    }

    /// <summary>
    /// The meta-information of an episode (Steps A and B before the generators): u's loss gradients on the support
    /// chunks (or pairs) and b's per-example loss gradients, preprocessed by <see cref="LogAndSign"/>. Plain data: no
    /// graph leads back to W or Q (spec §9.7).
    /// </summary>
    public MetaNetInformation Information(Tensor supportInputs, Tensor supportLabels, int ways)
    {
        using var scope = NewDisposeScope();
        var net = Network;
        Tensor? taskConv = null, taskFc = null, baseTaskConv = null, baseTaskFc = null;
        if (Options.TaskLevelFastWeights)
        {
            var embedding = net.Embedding.Slow(ways);
            var features = MetaInformationFeatures(net.Embedding, supportInputs);
            Tensor convSteps, fcSteps;
            if (Options.EmbeddingLoss == EmbeddingLoss.CrossEntropy)
            {
                // u's head gradient would feed d rows whose output is never used; d is coordinate-wise, so leaving them
                // out changes no other row (spec §9.16).
                var g = MetaInformation.PerExampleGradients(embedding, features, supportLabels, withHead: false);
                var chunks = MetaInformation.Chunks((int)supportInputs.size(0), Options.TaskSteps);
                convSteps = MetaInformation.ChunkMeans(net.ConvLayout.Flatten(g.Convs, leading: 1), chunks);
                fcSteps = MetaInformation.ChunkMeans(g.Fc1.flatten(1), chunks);
            }
            else
            {
                var sampled = MetaInformation.SamplePairs(supportLabels.ToArray<long>(), Options.ContrastivePairs, pairs);
                var g = MetaInformation.PairGradients(embedding, features, sampled);
                convSteps = net.ConvLayout.Flatten(g.Convs, leading: 1);
                fcSteps = g.Fc1.flatten(1);
            }
            taskConv = LogAndSign.Apply(convSteps);
            taskFc = LogAndSign.Apply(fcSteps);
        }

        var fcLayout = net.BaseFcLayout(ways);
        var gradients = MetaInformation.PerExampleGradients(net.Base.Slow(ways), MetaInformationFeatures(net.Base, supportInputs), supportLabels);
        var exampleConv = net.ConvLayout.Flatten(gradients.Convs, leading: 1);
        var exampleFc = fcLayout.Flatten([gradients.Fc1, gradients.Head!], leading: 1);
        if (Options.BaseTaskFastWeights)
        {
            // MetaNet+ (spec §8.2, reconstructed): b's per-example gradients averaged over the chunks of Step A (the
            // chunk mean of the raw gradients, then LogAndSign).
            var chunks = MetaInformation.Chunks((int)supportInputs.size(0), Options.TaskSteps);
            baseTaskConv = LogAndSign.Apply(MetaInformation.ChunkMeans(exampleConv, chunks));
            baseTaskFc = LogAndSign.Apply(MetaInformation.ChunkMeans(exampleFc, chunks));
        }
        var information = new MetaNetInformation(LogAndSign.Apply(exampleConv), LogAndSign.Apply(exampleFc), taskConv, taskFc, baseTaskConv, baseTaskFc);
        foreach (var t in information.Tensors) t.MoveToOuterDisposeScope();
        return information;
    }

    /// <summary>
    /// What a network's augmented layers read when its meta-information is taken: the trunk's features of the whole
    /// support batch (spec §7.1: "run the trunk once on the support batch, then split"), as data; the images when it has
    /// no trunk.
    /// </summary>
    private static Tensor MetaInformationFeatures(AugmentedConvNet net, Tensor supportInputs)
    {
        using var _ = no_grad();
        return net.Trunk(supportInputs);
    }

    /// <summary>
    /// The generators (spec §2.4–§2.5): m turns each support example's information into its row of the memory M; d turns
    /// the task information into Q* (and, in MetaNet+, into b's task-level fast weights). Differentiable in Z and G.
    /// </summary>
    public MetaNetFastWeights Generate(MetaNetInformation information, int ways)
    {
        var (conv, fc) = Memory(information);
        return new MetaNetFastWeights(conv, fc, TaskFastWeights(information), BaseTaskFastWeights(information, ways));
    }

    /// <summary>
    /// The memory (spec §3.3 Step B): m_conv and m_fc on each support example's information, [N, P_conv] and [N, P_fc],
    /// scaled as <see cref="MetaNetOptions.FastWeightScale"/> says. The read is linear, so scaling the rows of M scales
    /// every W*ⱼ read from them alike.
    /// </summary>
    public (Tensor Conv, Tensor Fc) Memory(MetaNetInformation information)
    {
        var d = Network.Base.FeatureSize;
        var headCoordinates = information.ExampleFc.size(-2) - Network.Base.Fc1Weight.numel();   // n·D
        if (headCoordinates < d || headCoordinates % d != 0)
            throw new ArgumentException($"MetaNet.Memory: {information.ExampleFc.size(-2)} fc coordinates are not fc1's {Network.Base.Fc1Weight.numel()} plus an n-way head of {d} per way.");
        var ways = (int)(headCoordinates / d);
        return (Scaled(CoordinateMlp.Generate(Network.ExampleConv, information.ExampleConv), Network.ConvLayout),
                Scaled(CoordinateMlp.Generate(Network.ExampleFc, information.ExampleFc), Network.BaseFcLayout(ways)));
    }

    /// <summary>
    /// Generated coordinates [..., P] of a layout as <see cref="MetaNetOptions.FastWeightScale"/> says: as generated, or
    /// (FanIn) each layer's part centred over its coordinates and times 1/√fan-in of the layer.
    /// </summary>
    private Tensor Scaled(Tensor generated, WeightLayout layout)
    {
        if (Options.FastWeightScale == FastWeightScale.None) return generated;
        using var scope = NewDisposeScope();
        var parts = generated.split(layout.Sizes.ToArray(), -1);
        var centred = cat(parts.Select(p => p - p.mean([-1], keepdim: true)).ToArray(), -1);
        return (centred * layout.FanInScale(generated.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Q* (spec §3.3 Step A, §4.3): d's last output over u's information, split into u's shapes; null in MetaNet−.</summary>
    public WeightSet? TaskFastWeights(MetaNetInformation information)
    {
        if (information.TaskConv is null) return null;
        var net = Network;
        var convs = net.ConvLayout.Split(Scaled(net.TaskConv!.Generate(information.TaskConv), net.ConvLayout));
        var fc1 = Scaled(net.TaskFc!.Generate(information.TaskFc!), new WeightLayout([net.Embedding.Fc1Weight])).view(net.Embedding.Fc1Weight.shape);
        return new WeightSet(convs, fc1, null);
    }

    /// <summary>MetaNet+ (spec §8.2, reconstructed): b's own task-level fast weights from LSTMs like d; null otherwise.</summary>
    public WeightSet? BaseTaskFastWeights(MetaNetInformation information, int ways)
    {
        if (information.BaseTaskConv is null) return null;
        var net = Network;
        var convs = net.ConvLayout.Split(Scaled(net.BaseTaskConv!.Generate(information.BaseTaskConv), net.ConvLayout));
        var fc = net.BaseFcLayout(ways).Split(Scaled(net.BaseTaskFc!.Generate(information.BaseTaskFc!), net.BaseFcLayout(ways)));
        return new WeightSet(convs, fc[0], fc[1]);
    }

    /// <summary>
    /// Step C with everything generated: the keys R = u(x'; Q, Q*) and u(xⱼ; Q, Q*), the attention of every query over
    /// the support set, the read W*ⱼ = Σᵢ pⱼᵢ Mᵢ and b's logits on the queries with slow and fast branches.
    /// </summary>
    public MetaNetEpisode Queries(MetaNetInformation information, MetaNetFastWeights fast, Tensor supportInputs, Tensor queryInputs, int ways)
    {
        using var scope = NewDisposeScope();
        var net = Network;
        var embedding = net.Embedding.Slow(ways);
        IReadOnlyList<WeightSet> keyBranches = fast.Task is null ? [embedding] : [embedding, fast.Task];
        // Separate trunk calls for the support set and the queries (spec §7.1: their own batch statistics in training).
        var supportKeys = AugmentedConvNet.Key(net.Embedding.Trunk(supportInputs), keyBranches);
        var queryKeys = AugmentedConvNet.Key(net.Embedding.Trunk(queryInputs), keyBranches);
        // b's trunk sees the whole query batch at once, also in the authors' query-by-query loop (spec §9.15).
        var queryFeatures = net.Base.Trunk(queryInputs);
        var slow = net.Base.Slow(ways);
        var fcLayout = net.BaseFcLayout(ways);
        var attention = CosineAttention.Weights(queryKeys, supportKeys);
        var logits = Options.BatchedQueries
            ? QueriesBatched(queryFeatures, slow, attention, fast.MemoryConv, fast.MemoryFc, fcLayout, fast.BaseTask)
            : QueriesOneByOne(queryFeatures, slow, queryKeys, supportKeys, fast.MemoryConv, fast.MemoryFc, fcLayout, fast.BaseTask);
        foreach (var t in new[] { logits, supportKeys, queryKeys, attention }) t.MoveToOuterDisposeScope();
        return new MetaNetEpisode(logits, supportKeys, queryKeys, attention, fast.MemoryConv, fast.MemoryFc,
                                  information.ExampleConv, information.ExampleFc, fast.Task, fast.BaseTask);
    }

    /// <summary>
    /// The example-level fast weights each query of an episode read, W*ⱼ = Σᵢ pⱼᵢ Mᵢ (spec §5), split into b's shapes
    /// with a leading query dimension [L, …]: a branch for <see cref="AugmentedConvNet"/> (e.g. to see how active it is,
    /// <see cref="AugmentedConvNet.ActiveFraction"/>).
    /// </summary>
    public WeightSet ExampleFastWeights(MetaNetEpisode episode, int ways)
    {
        var convs = Network.ConvLayout.Split(CosineAttention.Read(episode.Attention, episode.MemoryConv));
        var fc = Network.BaseFcLayout(ways).Split(CosineAttention.Read(episode.Attention, episode.MemoryFc));
        return new WeightSet(convs, fc[0], fc[1]);
    }

    /// <summary>
    /// The branches of b's query pass for n-way episodes: slow (unless fast-only), the example-level fast weights
    /// (at <see cref="ExampleBranchIndex"/>), MetaNet+'s task level.
    /// </summary>
    public IReadOnlyList<WeightSet> BaseBranches(WeightSet exampleFast, WeightSet? baseTaskFast, int ways) =>
        QueryBranches(Network.Base.Slow(ways), exampleFast, baseTaskFast);

    /// <summary>Where the example-level fast weights sit among <see cref="BaseBranches"/>.</summary>
    public int ExampleBranchIndex => Options.FastOnlyBaseLearner ? 0 : 1;

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
