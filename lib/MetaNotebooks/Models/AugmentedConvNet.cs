using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Models;

/// <summary>
/// One branch of a layer-augmented <see cref="AugmentedConvNet"/>: a weight for each convolution, for fc1 and (where the
/// branch produces logits) for the head. Each tensor either has the parameter's own shape (shared by every example of
/// the batch: slow weights, task-level fast weights) or a leading group dimension [G, …] (one set per group of
/// examples: per-example gradient copies, per-query fast weights). Shared and grouped tensors may be mixed.
/// </summary>
public sealed record WeightSet(IReadOnlyList<Tensor> Convs, Tensor Fc1, Tensor? Head)
{
    public IEnumerable<Tensor> Tensors => Head is null ? [.. Convs, Fc1] : [.. Convs, Fc1, Head];

    /// <summary>The same set with every tensor detached (for meta-information that must carry no graph).</summary>
    public WeightSet Detach() => new(Convs.Select(c => c.detach()).ToArray(), Fc1.detach(), Head?.detach());
}

/// <summary>
/// MetaNet's networks (Munkhdalai &amp; Yu 2017; docs/metanet.md §3.1–§3.2, §7.1): the base learner b and the embedding
/// function u have this shape. The Omniglot network (<c>MetaNetFull</c>, the defaults): five layer-augmented blocks of
/// [3×3 convolution, 64 filters, stride 1, padding 1, no bias; ReLU; 2×2 max-pool in ceil mode] take 1×28×28 to 64×1×1
/// (28→14→7→4→2→1; ceil mode is Chainer's <c>cover_all=True</c>, spec §1.4, without which 7→3→1→0), then fc1 [64, 64]
/// and a head [n, 64], all without bias. The Mini-ImageNet network (<c>MetaNetPartial</c>): a slow-only
/// <see cref="BatchNormTrunk"/> of three blocks (32 filters, 3×84×84 → 32×11×11) in front of two layer-augmented blocks
/// (11→6→3), then fc1 [288, 288] and a head [n, 288] (288 = 32·3·3, the flattened feature map, row-major).
/// Only the augmented blocks, fc1 and the head take part in the meta-information and the fast weights; their inputs are
/// the trunk's features (<see cref="Trunk"/>; the Omniglot network has none, so its features are the images).
/// <para>
/// Layer augmentation (spec §2.1–§2.2): every layer can run several weight branches on the same input and sum them:
/// a hidden layer sums ReLU(branch) over the branches (ReLU(slow) + ReLU(fast)), the head sums the branches' logits
/// before the softmax, and <see cref="Key"/> sums fc1's branches without ReLU (u's key output, spec §9.4). One branch
/// is the plain network (b_slow, u_head); no branch is special, so fast-only (§8.3) and three-branch (MetaNet+, §8.2)
/// networks are the same code.
/// </para>
/// <para>
/// Inputs are [B, C, H, W] (a grouped branch then has one weight set per example, G = B) or [G, M, C, H, W] (M
/// examples per weight set, e.g. contrastive pairs). Grouped convolutions run as one convolution with groups = G over
/// [M, G·C, H, W] (spec §10.3), grouped fc layers as bmm.
/// </para>
/// <para>
/// Parameters, in order: the augmented blocks' conv weights (conv1…conv5; conv4, conv5 after a three-block trunk), fc1
/// weight, the head [ways, D] if ways &gt; 0, then the trunk's. An M-way episode
/// with M ≠ ways uses an untrained test head [M, D] (spec §7.3), made on first use from its own seed and M: not a
/// parameter, so one trained model (and checkpoint) serves every M, and its initialisation does not depend on them.
/// Initialisation as Chainer's defaults (spec §2.7): N(0, 1/fan_in).
/// </para>
/// </summary>
public sealed class AugmentedConvNet : nn.Module
{
    /// <summary>The Omniglot network's (the default's) layer-augmented blocks.</summary>
    public const int Blocks = 5;
    /// <summary>The Omniglot network's (the default's) image side.</summary>
    public const int ImageSize = 28;
    public int Filters { get; }
    /// <summary>Layer-augmented conv blocks (5 for Omniglot, 2 for Mini-ImageNet).</summary>
    public int AugmentedBlocks { get; }
    /// <summary>D: the flattened features fc1 reads, filters × side² after every block (64 for Omniglot, 288 for Mini-ImageNet).</summary>
    public int FeatureSize { get; }
    /// <summary>The slow-only batch-norm front (Mini-ImageNet), or null (Omniglot).</summary>
    public BatchNormTrunk? SlowTrunk { get; }
    /// <summary>Size of the head that training uses; 0: no head (u of MetaNet−).</summary>
    public int Ways { get; }

    private readonly Tensor[] convs;
    private readonly Tensor fc1;
    private readonly Tensor? head;
    private readonly ulong testHeadSeed;
    private readonly Dictionary<int, Tensor> testHeads = new();

    /// <param name="testHeadSeed">Seeds the untrained M-way test heads (with M), independently of `generator`.</param>
    /// <param name="trunkBlocks">Slow-only batch-norm blocks in front (<see cref="BatchNormTrunk"/>; 0: none, the Omniglot network).</param>
    /// <param name="augmentedBlocks">Layer-augmented conv blocks after the trunk.</param>
    /// <param name="imageSize">Side of the square input images (28 Omniglot, 84 Mini-ImageNet): fixes D.</param>
    public AugmentedConvNet(int ways, Generator? generator = null, ScalarType? dtype = null, int filters = 64, int inChannels = 1, ulong testHeadSeed = 0,
                            int trunkBlocks = 0, int augmentedBlocks = Blocks, int imageSize = ImageSize)
    {
        if (ways < 0 || filters < 1 || inChannels < 1 || trunkBlocks < 0 || augmentedBlocks < 1 || imageSize < 1)
            throw new ArgumentOutOfRangeException(nameof(ways),
                $"AugmentedConvNet: need ways ≥ 0, filters, channels, augmented blocks, image size ≥ 1 and trunk blocks ≥ 0; got {ways}, {filters}, {inChannels}, {augmentedBlocks}, {imageSize}, {trunkBlocks}");
        Filters = filters;
        Ways = ways;
        AugmentedBlocks = augmentedBlocks;
        var side = BatchNormTrunk.OutputSize(imageSize, trunkBlocks + augmentedBlocks);
        FeatureSize = checked(filters * side * side);
        this.testHeadSeed = testHeadSeed;
        // The trunk draws first (block1_1…block1_3 come first in the authors' model); the Omniglot network draws as before.
        if (trunkBlocks > 0) SlowTrunk = new BatchNormTrunk(trunkBlocks, inChannels, filters, generator, dtype);
        long c = trunkBlocks > 0 ? filters : inChannels;
        convs = new Tensor[augmentedBlocks];
        for (var i = 0; i < augmentedBlocks; i++)
        {
            convs[i] = RegisterParameter($"conv{trunkBlocks + i + 1}.weight", LeCunNormal([filters, c, 3, 3], generator, dtype));
            c = filters;
        }
        fc1 = RegisterParameter("fc1.weight", LeCunNormal([FeatureSize, FeatureSize], generator, dtype));
        if (ways > 0) head = RegisterParameter("head.weight", LeCunNormal([ways, FeatureSize], generator, dtype));
        if (SlowTrunk is not null) RegisterModule("trunk", SlowTrunk);
    }

    /// <summary>
    /// The trunk's features of a batch of images, the input of the augmented blocks (and of <see cref="Logits"/>,
    /// <see cref="Key"/>, …): [B, C, H, W] → [B, filters, h, w] through the batch-norm trunk (one batch, so in training
    /// mode its statistics are this batch's), or the images themselves when there is no trunk.
    /// </summary>
    public Tensor Trunk(Tensor images) => SlowTrunk is null ? images : SlowTrunk.forward(images);

    /// <summary>Chainer's default initialiser: N(0, 1/fan_in), fan_in = in-channels × kernel area or in-features.</summary>
    public static Tensor LeCunNormal(long[] shape, Generator? generator, ScalarType? dtype)
    {
        var t = empty(shape, dtype);
        var fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        nn.init.normal_(t, 0, Math.Sqrt(1.0 / fanIn), generator);
        return t;
    }

    public IReadOnlyList<Tensor> ConvWeights => convs;
    public Tensor Fc1Weight => fc1;

    /// <summary>
    /// The head for n-way episodes: the trained head when n = <see cref="Ways"/>, otherwise the untrained n-way test head
    /// (spec §7.3; LeCun-normal from the test-head seed and n, the same on every call), none when the network has no heads.
    /// </summary>
    public Tensor? HeadFor(int ways)
    {
        if (Ways == 0) return null;
        if (ways == Ways) return head;
        if (ways < 2) throw new ArgumentOutOfRangeException(nameof(ways), ways, "an episode needs at least 2 ways");
        lock (testHeads)
        {
            if (!testHeads.TryGetValue(ways, out var testHead))
            {
                using var g = new Generator(unchecked(testHeadSeed * 1_000_003UL + (ulong)ways));
                using var initial = LeCunNormal([ways, FeatureSize], g, fc1.dtype);
                // Meta-information needs its gradients (spec §7.3), but no optimiser ever sees it.
                testHead = initial.to(fc1.device, copy: true).requires_grad_().DetachFromDisposeScope();
                testHeads[ways] = testHead;
            }
            return testHead;
        }
    }

    /// <summary>The slow weights as a branch, with the head for n-way episodes.</summary>
    public WeightSet Slow(int ways) => new(convs, fc1, HeadFor(ways));

    /// <summary>The augmented conv blocks with their branches summed per block: [B, C, H, W] → [B, D] or [G, M, …] → [G, M, D].</summary>
    public static Tensor Features(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        using var scope = NewDisposeScope();
        var h = Grouped(x);
        long g = h.size(0), m = h.size(1);
        for (var l = 0; l < branches[0].Convs.Count; l++)
        {
            Tensor? sum = null;
            foreach (var b in branches)
            {
                var y = Conv(h, b.Convs[l]).relu();
                sum = sum is null ? y : sum + y;
            }
            var s = sum!.reshape(g * m, sum.size(2), sum.size(3), sum.size(4));
            var pooled = F.max_pool2d(s, 2, 2, ceilMode: true);
            h = pooled.view(g, m, pooled.size(1), pooled.size(2), pooled.size(3));
        }
        return Ungrouped(h.reshape(g, m, -1), x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// How alive each branch is: for every branch and every hidden layer (the conv blocks, then fc1) the fraction of its
    /// pre-activations above 0, i.e. of the units whose ReLU passes anything (and any gradient) on, over the batch x,
    /// as the layer-augmented forward pass computes them (each layer's input is the sum of the branches of the layer
    /// before). [branches, augmented blocks + 1]. A branch at 0 contributes nothing and learns nothing through that layer.
    /// </summary>
    public static Tensor ActiveFraction(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        var activity = BranchActivity(x, branches);
        activity.OutputShare.Dispose();
        return activity.ActiveFraction;
    }

    /// <summary>
    /// What each branch does in each layer of the layer-augmented forward pass over the batch x (each layer's input is
    /// the sum of the branches of the layer before, as in <see cref="Logits"/>):
    /// <list type="bullet">
    /// <item>ActiveFraction [branches, augmented blocks + 1]: per hidden layer (conv1…conv5, fc1) the fraction of the branch's
    /// pre-activations above 0 (see <see cref="ActiveFraction"/>);</item>
    /// <item>OutputShare [branches, augmented blocks + 2]: per layer (conv1…conv5, fc1 and, when every branch has a head, the head)
    /// the branch's share of the layer's output, Σ|yᵦ| / Σ_branches Σ|y|, with yᵦ the branch's ReLU output (its logits
    /// for the head) before the branches are summed; each column sums to 1 (0 where every branch outputs 0). Without
    /// heads the head column is 0.</item>
    /// </list>
    /// </summary>
    public static (Tensor ActiveFraction, Tensor OutputShare) BranchActivity(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        if (branches.Count == 0) throw new ArgumentException("AugmentedConvNet.BranchActivity: at least one branch.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var blocks = branches[0].Convs.Count;
        var active = new Tensor[blocks + 1][];
        var share = new Tensor[blocks + 2][];
        static Tensor[] Shares(IReadOnlyList<Tensor> outputs)
        {
            var sizes = outputs.Select(y => y.abs().sum().to(ScalarType.Float64)).ToArray();
            var total = stack(sizes, 0).sum();
            return sizes.Select(s => total.item<double>() > 0 ? s / total : zeros_like(s)).ToArray();
        }
        var h = Grouped(x);
        long g = h.size(0), m = h.size(1);
        for (var l = 0; l < blocks; l++)
        {
            var outputs = new List<Tensor>();
            active[l] = new Tensor[branches.Count];
            for (var b = 0; b < branches.Count; b++)
            {
                var z = Conv(h, branches[b].Convs[l]);
                active[l][b] = (z > 0).to(ScalarType.Float64).mean();
                outputs.Add(z.relu());
            }
            share[l] = Shares(outputs);
            var sum = outputs.Aggregate((a, b) => a + b);
            var pooled = F.max_pool2d(sum.reshape(g * m, sum.size(2), sum.size(3), sum.size(4)), 2, 2, ceilMode: true);
            h = pooled.view(g, m, pooled.size(1), pooled.size(2), pooled.size(3));
        }
        var features = h.reshape(g, m, -1);
        var hidden = branches.Select(b => Fc(features, b.Fc1)).ToArray();
        active[blocks] = hidden.Select(z => (z > 0).to(ScalarType.Float64).mean()).ToArray();
        var relu = hidden.Select(z => z.relu()).ToArray();
        share[blocks] = Shares(relu);
        if (branches.All(b => b.Head is not null))
        {
            var sum = relu.Aggregate((a, b) => a + b);
            share[blocks + 1] = Shares(branches.Select(b => Fc(sum, b.Head!)).ToArray());
        }
        else share[blocks + 1] = branches.Select(_ => zeros([], ScalarType.Float64)).ToArray();
        Tensor Table(Tensor[][] columns) =>
            stack(Enumerable.Range(0, branches.Count).Select(b => stack(columns.Select(c => c[b]).ToArray(), 0)).ToArray(), 0);
        var result = (Table(active).MoveToOuterDisposeScope(), Table(share).MoveToOuterDisposeScope());
        return result;
    }

    /// <summary>Σ_branches ReLU(h·W_fc1ᵀ) on the trunk's features: [B, F] (or [G, M, F]).</summary>
    public static Tensor Hidden(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        using var scope = NewDisposeScope();
        var h = Grouped(Features(x, branches));
        return Ungrouped(SumBranches(h, branches.Select(b => b.Fc1), relu: true), x).MoveToOuterDisposeScope();
    }

    /// <summary>Σ_branches h·W_headᵀ on <see cref="Hidden"/>: logits summed before the softmax (spec §2.2). [B, n].</summary>
    public static Tensor Logits(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        if (branches.Any(b => b.Head is null)) throw new ArgumentException("AugmentedConvNet.Logits: every branch needs a head weight.");
        using var scope = NewDisposeScope();
        var h = Grouped(Hidden(x, branches));
        return Ungrouped(SumBranches(h, branches.Select(b => b.Head!), relu: false), x).MoveToOuterDisposeScope();
    }

    /// <summary>u's key (spec §3.2 u_key): Σ_branches h·W_fc1ᵀ with no ReLU on either branch (spec §9.4). [B, F].</summary>
    public static Tensor Key(Tensor x, IReadOnlyList<WeightSet> branches)
    {
        using var scope = NewDisposeScope();
        var h = Grouped(Features(x, branches));
        return Ungrouped(SumBranches(h, branches.Select(b => b.Fc1), relu: false), x).MoveToOuterDisposeScope();
    }

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        if (Ways == 0) throw new InvalidOperationException("AugmentedConvNet without a head has no logits; use Key or Features.");
        var n = AugmentedBlocks;
        var features = SlowTrunk is null ? x : SlowTrunk.forward(x, p.Skip(n + 2).ToArray());
        return Logits(features, [new WeightSet(p.Take(n).ToArray(), p[n], p[n + 1])]);
    }

    /// <summary>[B, …] → [B, 1, …] (one example per group); [G, M, …] stays.</summary>
    private static Tensor Grouped(Tensor x) => x.dim() is 4 or 2 ? x.unsqueeze(1) : x;

    private static Tensor Ungrouped(Tensor h, Tensor input) => input.dim() is 4 or 2 ? h.squeeze(1) : h;

    /// <summary>3×3 convolution, padding 1, of h [G, M, C, H, W] with a shared [F, C, 3, 3] or grouped [G, F, C, 3, 3] kernel.</summary>
    private static Tensor Conv(Tensor h, Tensor w)
    {
        long g = h.size(0), m = h.size(1), c = h.size(2), height = h.size(3), width = h.size(4);
        if (w.dim() == 4)
        {
            var y = F.conv2d(h.reshape(g * m, c, height, width), w, padding: 1);
            return y.view(g, m, y.size(1), height, width);
        }
        if (w.size(0) != g) throw new ArgumentException($"AugmentedConvNet: a grouped kernel for {w.size(0)} groups, input for {g}.");
        // [G, M, C, H, W] → [M, G·C, H, W]: group k owns channels k·C … k·C + C − 1 and sees only its own kernels.
        var x = h.transpose(0, 1).reshape(m, g * c, height, width);
        var z = F.conv2d(x, w.reshape(g * w.size(1), w.size(2), w.size(3), w.size(4)), padding: 1, groups: g);
        return z.view(m, g, w.size(1), height, width).transpose(0, 1);
    }

    /// <summary>h [G, M, D] times a shared [out, D] or grouped [G, out, D] weight → [G, M, out].</summary>
    private static Tensor Fc(Tensor h, Tensor w) => w.dim() == 2 ? F.linear(h, w) : h.bmm(w.transpose(1, 2));

    public override void Dispose()
    {
        lock (testHeads)
        {
            foreach (var h in testHeads.Values) h.Dispose();
            testHeads.Clear();
        }
        base.Dispose();
    }

    private static Tensor SumBranches(Tensor h, IEnumerable<Tensor> weights, bool relu)
    {
        Tensor? sum = null;
        foreach (var w in weights)
        {
            var y = Fc(h, w);
            if (relu) y = y.relu();
            sum = sum is null ? y : sum + y;
        }
        return sum ?? throw new ArgumentException("AugmentedConvNet: at least one branch.");
    }
}
