using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// The example-level fast-weight generator m (docs/metanet.md §2.4): Linear 2→20, ReLU, Linear 20→20, ReLU,
/// Linear 20→1, all with bias, applied to every coordinate of a preprocessed gradient separately (the P coordinates
/// are the batch, so its 501 parameters are shared across coordinates and it works for any layer size: this is what
/// lets a never-trained test head get fast weights, §7.3). MetaNet has two copies, one for convolution kernels and
/// one for fully connected weights.
/// </summary>
public static class CoordinateMlp
{
    public const int Hidden = 20;

    /// <summary>An <see cref="Mlp"/>(2, 20, 20, 1) initialised as Chainer's Linear: weights N(0, 1/in), biases 0 (spec §2.7).</summary>
    public static Mlp Create(Generator? generator = null, ScalarType? dtype = null)
    {
        var mlp = new Mlp([2, Hidden, Hidden, 1], generator, dtype);
        using var _ = no_grad();
        var p = mlp.parameters();
        for (var i = 0; i < p.Count; i += 2)
        {
            nn.init.normal_(p[i], 0, Math.Sqrt(1.0 / p[i].size(1)), generator);
            nn.init.zeros_(p[i + 1]);
        }
        return mlp;
    }

    /// <summary>
    /// m on preprocessed gradients [..., P, 2] → fast weights [..., P]: the same function as <c>m.forward</c> row by row,
    /// computed with the coordinates along the columns (h = W·x + b on [features, coordinates]), so that each layer's
    /// bias, ReLU and their backward run over contiguous rows of N·P numbers instead of rows of 20; forward and
    /// backward take ~0.6× the time of the row layout for Omniglot's 5 × 148,032 coordinates.
    /// </summary>
    public static Tensor Generate(Mlp m, Tensor preprocessed)
    {
        if (preprocessed.size(-1) != 2) throw new ArgumentException($"CoordinateMlp: the input must be [..., P, 2], got [{string.Join(", ", preprocessed.shape)}].");
        using var scope = NewDisposeScope();
        var p = m.parameters();
        var h = preprocessed.reshape(-1, 2).t();
        for (var l = 0; l < p.Count / 2; l++)
        {
            h = p[2 * l + 1].unsqueeze(1).addmm(p[2 * l], h);
            if (l < p.Count / 2 - 1) h = h.relu();
        }
        return h.reshape(preprocessed.shape[..^1]).MoveToOuterDisposeScope();
    }
}
