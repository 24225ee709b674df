using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Models;

/// <summary>
/// The slow-only front of MetaNet's Mini-ImageNet networks (docs/metanet.md §7.1, the authors' <c>BlockBN</c> in
/// <c>MetaNetPartial</c>): blocks of [3×3 convolution, stride 1, padding 1, no bias; batch norm; ReLU; 2×2 max-pool in
/// ceil mode], 84 → 42 → 21 → 11 for three blocks. Batch norm as Chainer's defaults (spec §2.1): ε = 2·10⁻⁵ (not
/// libtorch's 10⁻⁵), decay 0.9 (momentum 0.1); in training mode every call normalises with its own batch's statistics
/// and updates the running averages, in evaluation mode it uses the running averages. No layer of the trunk has fast
/// weights: it feeds the layer-augmented blocks of an <see cref="AugmentedConvNet"/>.
/// Parameters, in order: conv1…convK weights (N(0, 1/fan_in), Chainer's default), then each block's batch-norm γ and β.
/// </summary>
public sealed class BatchNormTrunk : nn.Module
{
    /// <summary>Chainer's BatchNormalization ε (spec §2.1).</summary>
    public const double Eps = 2e-5;

    public int Blocks { get; }
    public int Filters { get; }

    public BatchNormTrunk(int blocks, int inChannels, int filters, Generator? generator = null, ScalarType? dtype = null)
    {
        if (blocks < 1 || inChannels < 1 || filters < 1)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"BatchNormTrunk: need blocks, in-channels and filters ≥ 1; got {blocks}, {inChannels}, {filters}");
        Blocks = blocks;
        Filters = filters;
        long c = inChannels;
        for (var i = 0; i < blocks; i++)
        {
            RegisterParameter($"conv{i + 1}.weight", AugmentedConvNet.LeCunNormal([filters, c, 3, 3], generator, dtype));
            c = filters;
        }
        for (var i = 0; i < blocks; i++) RegisterModule($"bn{i + 1}", new nn.BatchNorm2d(filters, eps: Eps, momentum: 0.1, dtype: dtype));
    }

    /// <summary>Side of the output for a square input of side `size`: each ceil-mode pool takes s to ⌈s / 2⌉.</summary>
    public static int OutputSize(int size, int blocks)
    {
        for (var i = 0; i < blocks; i++) size = (size + 1) / 2;
        return size;
    }

    /// <summary>[B, C, H, W] → [B, filters, ⌈H / 2ᴷ⌉, ⌈W / 2ᴷ⌉].</summary>
    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        if (x.dim() != 4) throw new ArgumentException($"BatchNormTrunk: input must be [B, C, H, W], got [{string.Join(", ", x.shape)}].");
        using var scope = NewDisposeScope();
        var children = Children;
        var h = x;
        for (var i = 0; i < Blocks; i++)
        {
            var conv = F.conv2d(h, p[i], padding: 1);
            var normalised = children[i].forward(conv, ChildParameters(p, i));
            h = F.max_pool2d(normalised.relu(), 2, 2, ceilMode: true);
        }
        return h.MoveToOuterDisposeScope();
    }
}
