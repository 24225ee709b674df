using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Models;

/// <summary>
/// A fully connected network with ReLU between layers (Finn et al.'s sine regressor is Mlp(1, 40, 40, 1)), callable
/// with explicit parameters [W₁, b₁, W₂, b₂, …] (W as nn.Linear's [out, in]). Parameters may be per task (see
/// <see cref="PerTask"/>: W [tasks, out, in], b [tasks, 1, out]) with inputs [tasks, N, in]: then each task uses its own
/// weights, which is how a whole meta-batch adapts in one batched computation.
/// </summary>
public sealed class Mlp : nn.Module, ITaskBatchedModel
{
    public IReadOnlyList<long> Sizes { get; }

    public Mlp(params long[] sizes) : this(sizes, null) { }

    public Mlp(long[] sizes, Generator? generator, ScalarType? dtype = null)
    {
        if (sizes.Length < 2 || sizes.Any(s => s <= 0)) throw new ArgumentException($"Mlp needs at least two positive layer sizes, got [{string.Join(", ", sizes)}].");
        Sizes = sizes;
        for (var i = 0; i + 1 < sizes.Length; i++)
            RegisterModule($"layer{i + 1}", new nn.Linear(sizes[i], sizes[i + 1], dtype: dtype, generator: generator));
    }

    /// <summary>
    /// Per-task views: W [tasks, out, in] and b [tasks, 1, out]. The bias already has the row axis it is broadcast over,
    /// so no layer adds an unsqueeze node (and second-order MAML no unsqueeze/squeeze pair in each of its differentiated
    /// passes): 5–7% of a sine meta-iteration (meta-batch 25, K = 10, 1 thread, CPU clock).
    /// </summary>
    public IReadOnlyList<Tensor> PerTask(IReadOnlyList<Tensor> parameters, long tasks) =>
        parameters.Select((p, i) => i % 2 == 0 ? p.expand([tasks, .. p.shape]) : p.expand([tasks, 1, p.size(0)])).ToArray();

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        var layers = p.Count / 2;
        var h = x;
        for (var l = 0; l < layers; l++)
        {
            var next = Affine(h, p[2 * l], p[2 * l + 1]);
            if (!ReferenceEquals(h, x)) h.Dispose();
            if (l < layers - 1) next.relu_();
            h = next;
        }
        return h;
    }

    /// <summary>
    /// h Wᵀ + b, for shared weights ([out, in]) or per-task weights ([tasks, out, in], b [tasks, 1, out], h [tasks, N, in]).
    /// Per task, a layer with one input or one output is a broadcast product, not a matrix product: libtorch's CPU bmm
    /// runs one small GEMM per task, and second-order MAML differentiates each bmm twice, so the sine network's 1→40
    /// and 40→1 layers cost three times more as bmm than as element-wise products (measured in `mn bench maml.sine`).
    /// bmm then add (rather than the fused baddbmm) has the cheaper double backward.
    /// </summary>
    private static Tensor Affine(Tensor h, Tensor w, Tensor b)
    {
        if (w.dim() == 2) return nn.functional.linear(h, w, b);
        if (w.dim() != 3 || b.dim() != 3 || b.size(1) != 1)
            throw new ArgumentException($"Mlp: per-task parameters are W [tasks, out, in] and b [tasks, 1, out] (Mlp.PerTask), got W [{string.Join(", ", w.shape)}] and b [{string.Join(", ", b.shape)}].");
        if (w.size(2) == 1)                                              // one input: h [T,N,1] · W [T,1,out]
        {
            using var wt = w.transpose(1, 2);
            using var product = h * wt;
            return product + b;
        }
        if (w.size(1) == 1)                                              // one output: Σᵢ h [T,N,in] · W [T,1,in]
        {
            using var product = h * w;
            using var sum = product.sum(-1, keepdim: true);
            return sum + b;
        }
        using var wT = w.transpose(1, 2);
        using var hw = h.bmm(wT);
        return hw + b;
    }
}
