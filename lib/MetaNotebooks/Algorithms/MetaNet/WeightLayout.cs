using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// How a group of weight tensors becomes one column of coordinates for a coordinate-wise generator, and back
/// (docs/metanet.md §1.2): each tensor is flattened row-major and the tensors are concatenated in layer order, so
/// coordinate j of a generated fast weight sits exactly where coordinate j of the gradient that produced it was.
/// MetaNet has two groups per network: the convolution kernels (P_conv = 576 + 4·36,864 = 148,032 for Omniglot) and
/// the fully connected weights (fc1 and the head: P_fc = 4,096 + 64·n).
/// </summary>
public sealed class WeightLayout
{
    public WeightLayout(IEnumerable<long[]> shapes)
    {
        Shapes = shapes.Select(s => (long[])s.Clone()).ToArray();
        if (Shapes.Count == 0) throw new ArgumentException("WeightLayout: at least one tensor.");
        Sizes = Shapes.Select(s => s.Aggregate(1L, (a, b) => a * b)).ToArray();
        Size = Sizes.Sum();
    }

    public WeightLayout(IEnumerable<Tensor> tensors) : this(tensors.Select(t => t.shape)) { }

    public IReadOnlyList<long[]> Shapes { get; }
    public IReadOnlyList<long> Sizes { get; }
    /// <summary>P: the number of coordinates.</summary>
    public long Size { get; }

    /// <summary>
    /// 1/√fan-in of the tensor each coordinate belongs to, [P] (fan-in = the product of a shape's dimensions after the
    /// first: in-channels × kernel area, or in-features): the standard deviation of the slow weights' initialisation
    /// N(0, 1/fan-in) (docs/metanet.md §2.7), coordinate by coordinate.
    /// </summary>
    public Tensor FanInScale(ScalarType? dtype = null)
    {
        using var scope = NewDisposeScope();
        var parts = Shapes.Select((s, i) => full([Sizes[i]], 1.0 / Math.Sqrt(s.Skip(1).Aggregate(1L, (a, b) => a * b)), dtype)).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Tensors of this layout's shapes, each with `leading` extra leading dimensions [G, …] → [G, P] (or [P]).</summary>
    public Tensor Flatten(IReadOnlyList<Tensor> tensors, int leading = 0)
    {
        if (tensors.Count != Shapes.Count) throw new ArgumentException($"WeightLayout: {tensors.Count} tensors for {Shapes.Count} shapes.");
        using var scope = NewDisposeScope();
        var lead = tensors[0].shape[..leading];
        var parts = tensors.Select(t => t.reshape([.. lead, -1])).ToArray();
        return cat(parts, leading).MoveToOuterDisposeScope();
    }

    /// <summary>[…, P] → one tensor per shape, […, shape] (views).</summary>
    public Tensor[] Split(Tensor flat)
    {
        if (flat.size(-1) != Size) throw new ArgumentException($"WeightLayout: {flat.size(-1)} coordinates for a layout of {Size}.");
        var lead = flat.shape[..^1];
        var parts = flat.split(Sizes.ToArray(), -1);
        var result = new Tensor[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            result[i] = parts[i].reshape([.. lead, .. Shapes[i]]);
            parts[i].Dispose();
        }
        return result;
    }
}
