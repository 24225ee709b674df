using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// Everything MetaNet trains (docs/metanet.md §3.1, §7.1, §10.5), in one module for the optimiser and checkpoints:
/// the base learner b (slow weights W) and the embedding function u (Q), both <see cref="AugmentedConvNet"/>s (with a
/// batch-norm trunk each in the Mini-ImageNet model: its γ, β are trained, its running averages are buffers);
/// the example-level generators m_conv and m_fc (Z, <see cref="CoordinateMlp"/>); the task-level generators d_conv
/// and d_fc (G, <see cref="CoordinateLstm"/>), absent in MetaNet−; and, for MetaNet+, b's own task-level generators.
/// u's head exists only to give d its cross-entropy gradients and is never trained (spec §9.3).
/// The episode computation is <see cref="MetaNet"/>; this module has no single-input forward.
/// </summary>
public sealed class MetaNetModel : nn.Module
{
    public MetaNetModel(MetaNetOptions options, ScalarType? dtype = null)
    {
        options.Validate();
        Options = options;
        using var g = new Generator((ulong)options.Seed);
        var uHeads = options.TaskLevelFastWeights && options.EmbeddingLoss == EmbeddingLoss.CrossEntropy;
        // Test heads (M-way after n-way training) come from their own seeds: b's and u's differ, and neither moves g.
        AugmentedConvNet Network(int ways, ulong testHeadSeed) =>
            new(ways, g, dtype, options.Filters, options.InChannels, testHeadSeed, options.TrunkBlocks, options.AugmentedBlocks, options.ImageSize);
        Base = RegisterModule("b", Network(options.Ways, unchecked((ulong)options.Seed * 2 + 1)));
        Embedding = RegisterModule("u", Network(uHeads ? options.Ways : 0, unchecked((ulong)options.Seed * 2 + 2)));
        ExampleConv = RegisterModule("m_conv", CoordinateMlp.Create(g, dtype));
        ExampleFc = RegisterModule("m_fc", CoordinateMlp.Create(g, dtype));
        if (options.TaskLevelFastWeights)
        {
            TaskConv = RegisterModule("d_conv", new CoordinateLstm(g, dtype));
            TaskFc = RegisterModule("d_fc", new CoordinateLstm(g, dtype));
        }
        if (options.BaseTaskFastWeights)
        {
            BaseTaskConv = RegisterModule("d_b_conv", new CoordinateLstm(g, dtype));
            BaseTaskFc = RegisterModule("d_b_fc", new CoordinateLstm(g, dtype));
        }
        ConvLayout = new WeightLayout(Base.ConvWeights);
    }

    public MetaNetOptions Options { get; }
    /// <summary>b: the base learner.</summary>
    public AugmentedConvNet Base { get; }
    /// <summary>u: the embedding function.</summary>
    public AugmentedConvNet Embedding { get; }
    /// <summary>m for convolution kernels.</summary>
    public Mlp ExampleConv { get; }
    /// <summary>m for fully connected weights.</summary>
    public Mlp ExampleFc { get; }
    /// <summary>d for u's convolution kernels (null in MetaNet−).</summary>
    public CoordinateLstm? TaskConv { get; }
    /// <summary>d for u's fc1 (null in MetaNet−).</summary>
    public CoordinateLstm? TaskFc { get; }
    /// <summary>MetaNet+'s d for b's convolution kernels.</summary>
    public CoordinateLstm? BaseTaskConv { get; }
    /// <summary>MetaNet+'s d for b's fc1 and head.</summary>
    public CoordinateLstm? BaseTaskFc { get; }

    /// <summary>The convolution group of b and of u (the same shapes; the augmented blocks only): P_conv coordinates.</summary>
    public WeightLayout ConvLayout { get; }

    /// <summary>b's fully connected group for n-way episodes: fc1 then the head, P_fc = D² + D·n coordinates (D = <see cref="AugmentedConvNet.FeatureSize"/>).</summary>
    public WeightLayout BaseFcLayout(int ways) => new([Base.Fc1Weight.shape, [ways, Base.FeatureSize]]);

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) =>
        throw new NotSupportedException("MetaNet works on whole episodes: use MetaNet.Run(support, labels, queries, ways).");
}
