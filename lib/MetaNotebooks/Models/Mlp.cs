using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Models;

/// <summary>
/// A fully connected network with ReLU between layers (Finn et al.'s sine regressor is Mlp(1, 40, 40, 1)), callable
/// with explicit parameters [W₁, b₁, W₂, b₂, …] (W as nn.Linear's [out, in]). Parameters may be per task, laid out by
/// <see cref="PerTask"/>, with inputs [tasks, N, in]: then each task uses its own weights, which is how a whole
/// meta-batch adapts in one batched computation.
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
    /// An Mlp whose weights are drawn from N(0, std²) truncated at ±2·std and whose biases are zero, instead of
    /// nn.Linear's default (kaiming-uniform weights and biases): the initialisation of TensorFlow's
    /// tf.truncated_normal(stddev = std) with tf.zeros biases, which cbfinn/maml's construct_fc_weights uses with
    /// std = 0.01 (utils/maml.py). The values come from <paramref name="generator"/> after those of the default init.
    /// </summary>
    public static Mlp TruncatedNormal(long[] sizes, double std, Generator? generator, ScalarType? dtype = null)
    {
        var mlp = new Mlp(sizes, generator, dtype);
        foreach (var (name, p) in mlp.named_parameters())
            if (name.EndsWith(".weight", StringComparison.Ordinal)) nn.init.trunc_normal_(p, 0, std, -2 * std, 2 * std, generator);
            else nn.init.zeros_(p);
        return mlp;
    }

    /// <summary>
    /// Per-task views, laid out as the batched layers consume them, so that no layer adds a view node (which
    /// second-order MAML would differentiate in each of its passes): W as [tasks, in, out] (Wᵀ, what h·W takes), except
    /// that a layer with one output keeps [tasks, 1, in] (a broadcast product); b as [tasks, 1, out] (the row axis it is
    /// broadcast over). Against [tasks, out, in] and [tasks, out] with a transpose and an unsqueeze in every layer, this
    /// takes ~7% off a second-order sine meta-iteration (meta-batch 25, K = 10, 1 thread, CPU clock).
    /// </summary>
    public IReadOnlyList<Tensor> PerTask(IReadOnlyList<Tensor> parameters, long tasks)
    {
        if (parameters.Count != 2 * (Sizes.Count - 1)) throw new ArgumentException($"Mlp: {parameters.Count} parameters for {Sizes.Count - 1} layers.");
        var perTask = new Tensor[parameters.Count];
        for (var l = 0; l < Sizes.Count - 1; l++)
        {
            var (w, b) = (parameters[2 * l], parameters[2 * l + 1]);
            if (Sizes[l + 1] == 1) perTask[2 * l] = w.expand([tasks, 1, Sizes[l]]);
            else
            {
                using var wT = w.t();
                perTask[2 * l] = wT.expand([tasks, Sizes[l], Sizes[l + 1]]);
            }
            perTask[2 * l + 1] = b.expand([tasks, 1, Sizes[l + 1]]);
        }
        return perTask;
    }

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        var layers = p.Count / 2;
        var h = x;
        for (var l = 0; l < layers; l++)
        {
            var next = p[2 * l].dim() == 2 ? nn.functional.linear(h, p[2 * l], p[2 * l + 1]) : PerTaskAffine(h, p[2 * l], p[2 * l + 1], Sizes[l], Sizes[l + 1]);
            if (!ReferenceEquals(h, x)) h.Dispose();
            if (l < layers - 1) next.relu_();
            h = next;
        }
        return h;
    }

    /// <summary>
    /// h·W + b per task, with h [tasks, N, in] and W, b as <see cref="PerTask"/> lays them out.
    /// A layer with one input or one output is a broadcast product, not a matrix product: libtorch's CPU bmm runs one
    /// small GEMM per task, and second-order MAML differentiates each bmm twice, so the sine network's 1→40 and 40→1
    /// layers cost three times more as bmm than as element-wise products (measured in `mn bench maml.sine`). bmm then
    /// add has a cheaper double backward than the fused baddbmm, and the fused addcmul was no faster than product + bias.
    /// </summary>
    private static Tensor PerTaskAffine(Tensor h, Tensor w, Tensor b, long inputs, long outputs)
    {
        var tasks = h.size(0);
        long[] expectedW = outputs == 1 ? [tasks, 1, inputs] : [tasks, inputs, outputs];
        if (!w.shape.SequenceEqual(expectedW) || !b.shape.SequenceEqual([tasks, 1, outputs]))
            throw new ArgumentException($"Mlp: per-task parameters of a {inputs}→{outputs} layer are W [{string.Join(", ", expectedW)}] and b [{tasks}, 1, {outputs}] " +
                                        $"(Mlp.PerTask), got W [{string.Join(", ", w.shape)}] and b [{string.Join(", ", b.shape)}].");
        if (outputs == 1)                                                // Σᵢ h [T,N,in] · W [T,1,in]
        {
            using var product = h * w;
            using var sum = product.sum(-1, keepdim: true);
            return sum + b;
        }
        using var hw = inputs == 1 ? h * w : h.bmm(w);                   // one input: h [T,N,1] · W [T,1,out]
        return hw + b;
    }
}
