using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// MetaNet's meta-information: loss gradients of a network's slow weights on support examples (docs/metanet.md §4).
/// They are first order (spec §3.4, §9.7): computed on detached copies of the weights, without createGraph, so they
/// are plain numbers and no meta-gradient flows through them; the slow weights are trained only through the slow
/// branches of the query pass.
/// </summary>
public static class MetaInformation
{
    /// <summary>
    /// ∇ᵢ = ∂CE(net(xᵢ; W), yᵢ)/∂W for every support example i separately (spec §4.1, b's "support loop"), as one
    /// tensor [N, …shape] per weight: conv kernels, fc1, and the head when `withHead` (u's head gradient is never used,
    /// spec §9.16). One forward and one backward for all N: every example gets its own copy of W (a grouped
    /// convolution, spec §10.3), the per-example losses are summed, and the gradient with respect to copy i is the
    /// gradient of loss i alone — the same numbers as N batch-of-one passes, since nothing couples the examples.
    /// </summary>
    public static WeightSet PerExampleGradients(WeightSet slow, Tensor x, Tensor y, bool withHead = true)
    {
        if (slow.Head is null) throw new ArgumentException("PerExampleGradients: the cross-entropy needs the head.");
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var n = x.size(0);
        Tensor Copies(Tensor w) => w.detach().unsqueeze(0).expand([n, .. w.shape]).contiguous().requires_grad_();
        var convs = slow.Convs.Select(Copies).ToArray();
        var fc1 = Copies(slow.Fc1);
        var head = withHead ? Copies(slow.Head) : slow.Head.detach();
        var logits = AugmentedConvNet.Logits(x, [new WeightSet(convs, fc1, head)]);
        var loss = F.cross_entropy(logits, y, reduction: nn.Reduction.Sum);
        Tensor[] inputs = withHead ? [.. convs, fc1, head] : [.. convs, fc1];
        var g = autograd.grad(loss, inputs);
        foreach (var t in g) t.MoveToOuterDisposeScope();
        return new WeightSet(g[..convs.Length], g[convs.Length], withHead ? g[^1] : null);
    }

    /// <summary>
    /// The consecutive chunks of a support set of n examples that the task-level generator reads, one per LSTM step
    /// (spec §3.3 Step A, the authors' <c>embed_key</c>): chunk size n div steps (IT = 5 for Omniglot), stepping over
    /// 0, c, 2c, … while below n, so n = 12 gives 6 chunks of 2. The authors' code crashes for n &lt; IT (size 0);
    /// here the size is at least 1 (spec §9.13), identical for every n ≥ IT.
    /// </summary>
    public static IReadOnlyList<(int Start, int Count)> Chunks(int n, int steps)
    {
        if (n < 1 || steps < 1) throw new ArgumentOutOfRangeException(nameof(n), $"need n ≥ 1 and steps ≥ 1, got {n}, {steps}");
        var size = Math.Max(1, n / steps);
        var chunks = new List<(int, int)>();
        for (var s = 0; s < n; s += size) chunks.Add((s, Math.Min(size, n - s)));
        return chunks;
    }

    /// <summary>
    /// The gradient of each chunk's batch-mean loss, from per-example gradients [N, P] → [steps, P]: the mean of its
    /// examples' gradients (the same thing: the layers differentiated have no batch norm to couple the examples; the
    /// Mini-ImageNet model's batch-norm trunk runs once on the whole support batch before the chunks are split, spec §7.1).
    /// </summary>
    public static Tensor ChunkMeans(Tensor perExample, IReadOnlyList<(int Start, int Count)> chunks)
    {
        using var scope = NewDisposeScope();
        return stack(chunks.Select(c => perExample.narrow(0, c.Start, c.Count).mean(0)).ToArray(), 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Contrastive meta-information for k &gt; 1 (spec §4.4, the paper's Eqs. 6–7; every detail below is the spec's
    /// stated engineering choice, not the authors' code, which always uses cross-entropy): for each sampled pair
    /// (a, b, same), e = ReLU(h·Q_fc1ᵀ) is u's slow embedding, d = ‖e_a − e_b‖₂ and
    ///   L = same·d² + (1 − same)·max(0, 1 − d)²      (Chopra/Hadsell, margin 1).
    /// Returns one gradient per pair [T, …shape] for the conv kernels and fc1 (no head is involved).
    /// </summary>
    public static WeightSet PairGradients(WeightSet slow, Tensor x, IReadOnlyList<(int A, int B, bool Same)> pairs)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var t = pairs.Count;
        Tensor Copies(Tensor w) => w.detach().unsqueeze(0).expand([t, .. w.shape]).contiguous().requires_grad_();
        var convs = slow.Convs.Select(Copies).ToArray();
        var fc1 = Copies(slow.Fc1);
        var index = tensor(pairs.SelectMany(p => new long[] { p.A, p.B }).ToArray());
        var images = x.index_select(0, index).view([t, 2, .. x.shape[1..]]);         // [T, 2, C, H, W]: pair k uses copy k
        var e = AugmentedConvNet.Hidden(images, [new WeightSet(convs, fc1, null)]);  // [T, 2, D]
        var d2 = (e.select(1, 0) - e.select(1, 1)).square().sum(1);
        var d = (d2 + 1e-12).sqrt();
        var same = tensor(pairs.Select(p => p.Same ? 1.0 : 0.0).ToArray()).to(d2.dtype);
        var loss = (same * d2 + (1 - same) * (1 - d).clamp_min(0).square()).sum();
        var g = autograd.grad(loss, [.. convs, fc1]);
        foreach (var r in g) r.MoveToOuterDisposeScope();
        return new WeightSet(g[..convs.Length], g[^1], null);
    }

    /// <summary>
    /// T pairs of distinct support examples, alternately same-class and different-class (half and half, spec §4.4),
    /// drawn uniformly with `generator`. Needs at least two examples of some class for a positive pair.
    /// </summary>
    public static (int A, int B, bool Same)[] SamplePairs(IReadOnlyList<long> labels, int count, Generator generator)
    {
        var byClass = labels.Select((l, i) => (l, i)).GroupBy(p => p.l).Select(g => g.Select(p => p.i).ToArray()).ToArray();
        var multi = byClass.Where(c => c.Length >= 2).ToArray();
        if (multi.Length == 0) throw new ArgumentException("contrastive meta-information needs k ≥ 2 examples of a class (spec §4.4); use cross-entropy for one-shot episodes.");
        if (byClass.Length < 2) throw new ArgumentException("contrastive meta-information needs at least two classes.");
        using var u = rand([count * 4], generator, ScalarType.Float64);
        var r = u.ToArray<double>();
        var next = 0;
        int Pick(int n) => Math.Min(n - 1, (int)(r[next++] * n));
        var pairs = new (int, int, bool)[count];
        for (var k = 0; k < count; k++)
        {
            if (k % 2 == 0)
            {
                var c = multi[Pick(multi.Length)];
                var a = Pick(c.Length);
                var b = (a + 1 + Pick(c.Length - 1)) % c.Length;
                pairs[k] = (c[a], c[b], true);
                next++;
            }
            else
            {
                var ca = Pick(byClass.Length);
                var cb = (ca + 1 + Pick(byClass.Length - 1)) % byClass.Length;
                pairs[k] = (byClass[ca][Pick(byClass[ca].Length)], byClass[cb][Pick(byClass[cb].Length)], false);
            }
        }
        return pairs;
    }
}
