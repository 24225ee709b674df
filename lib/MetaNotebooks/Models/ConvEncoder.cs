using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Models;

/// <summary>
/// The 4-block convolutional embedding shared by Matching, Prototypical and (with two blocks unpooled) Relation
/// networks: each block is a 3×3 convolution with 64 filters (padding 1), batch norm, ReLU and 2×2 max-pooling, so a
/// 28×28 Omniglot image becomes 64×1×1 and, flattened, a 64-d embedding (ProtoNet's protonets/models/few_shot.py).
/// Input [n, C, H, W] → [n, D]; with <see cref="Flatten"/> false the feature map [n, 64, h, w] is returned instead.
/// </summary>
public sealed class ConvEncoder : nn.Module
{
    public int Blocks { get; }
    public long Filters { get; }
    public bool Flatten { get; init; } = true;

    /// <param name="pooledBlocks">How many of the blocks end with max-pooling (all by default; Relation networks pool the first two).</param>
    /// <param name="padding">Convolution padding per block (1 by default; Relation networks' first two blocks use 0).</param>
    public ConvEncoder(long inChannels = 1, long filters = 64, int blocks = 4, int? pooledBlocks = null, int[]? padding = null, Generator? generator = null)
    {
        Blocks = blocks;
        Filters = filters;
        pooled = pooledBlocks ?? blocks;
        var c = inChannels;
        for (var i = 0; i < blocks; i++)
        {
            RegisterModule($"conv{i + 1}", new nn.Conv2d(c, filters, 3, padding: padding?[i] ?? 1, generator: generator));
            RegisterModule($"bn{i + 1}", new nn.BatchNorm2d(filters));
            c = filters;
        }
    }

    private readonly int pooled;

    /// <summary>The first block's convolution (for callers that compute it themselves, see <see cref="ForwardAfterFirstConv"/>).</summary>
    public nn.Conv2d FirstConv => (nn.Conv2d)Children[0];

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p) => Run(x, p, firstConvDone: false);

    /// <summary>
    /// The encoder from the first block's batch norm on: for callers that computed the first convolution's output
    /// [n, filters, H, W] themselves (Relation networks split it over the two halves of a concatenated input).
    /// </summary>
    public Tensor ForwardAfterFirstConv(Tensor firstConvOutput) => Run(firstConvOutput, parameters(), firstConvDone: true);

    private Tensor Run(Tensor x, IReadOnlyList<Tensor> p, bool firstConvDone)
    {
        var children = Children;
        var h = x;
        for (var i = 0; i < Blocks; i++)
        {
            using var conv = i == 0 && firstConvDone ? x.view(x.shape) : children[2 * i].forward(h, ChildParameters(p, 2 * i));
            if (!ReferenceEquals(h, x)) h.Dispose();
            using var bn = children[2 * i + 1].forward(conv, ChildParameters(p, 2 * i + 1));
            var relu = bn.relu();
            if (i < pooled)
            {
                h = nn.functional.max_pool2d(relu, 2);
                relu.Dispose();
            }
            else h = relu;
        }
        if (!Flatten) return h;
        using (h) return h.flatten(1);
    }

    /// <summary>Embeds images with any leading shape [..., C, H, W] → [..., D] (e.g. [tasks, examples, C, H, W]).</summary>
    public Tensor Embed(Tensor images)
    {
        var lead = images.shape[..^3];
        using var flat = images.reshape([-1, .. images.shape[^3..]]);
        using var z = forward(flat);
        return z.reshape([.. lead, .. z.shape[1..]]);
    }
}
