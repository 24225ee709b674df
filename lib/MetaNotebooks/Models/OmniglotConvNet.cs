using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Models;

/// <summary>
/// MAML's Omniglot network (Finn et al. 2017, appendix A.1; cbfinn/maml utils.py <c>conv_block</c> without max-pool):
/// 4 × [3×3 convolution, 64 filters, stride 2, TensorFlow 'SAME' padding; batch norm; ReLU] on 1×28×28 input
/// (28 → 14 → 7 → 4 → 2), the mean over the final 2×2 map, and a linear head to N ways.
/// <para>
/// Batch norm always normalises with the statistics of the batch it is given (as tf.contrib.layers.batch_norm in
/// the paper's code, whose moving averages are never used): there are no running averages, at training or at test.
/// During adaptation a task's support set is normalised with its own statistics and its query set with its own.
/// </para>
/// <para>
/// Parameters, in order: per block conv weight [64, C, 3, 3], conv bias [64], batch-norm scale γ [64] and shift β
/// [64]; then the head [N, 64] and its bias [N]. Initialisation as the paper's code: Xavier-uniform convolutions,
/// zero biases, γ = 1, β = 0, the head N(0, 1).
/// </para>
/// <para>
/// Inputs and parameters:
/// <list type="bullet">
/// <item>shared parameters, x [B, 1, 28, 28] → logits [B, N] (one batch, one set of statistics);</item>
/// <item>shared parameters, x [T, M, 1, 28, 28] → [T, M, N]: T tasks, each normalised with its own statistics;</item>
/// <item>per-task parameters (each with a leading task dimension T) and x [T, M, 1, 28, 28] → [T, M, N].</item>
/// </list>
/// With T tasks, all of them run in one graph: tasks move into channels (x as [M, T·C, H, W]), the convolutions
/// are grouped (weight [T·64, C, 3, 3], groups = T), so task t's channels only see task t's filters, and batch norm
/// per channel is batch norm per task; the head is a batched matrix product (baddbmm).
/// </para>
/// </summary>
public sealed class OmniglotConvNet : nn.Module
{
    public const int Blocks = 4;
    public const int ImageSize = 28;
    public int Ways { get; }
    public int Filters { get; }
    /// <summary>Batch norm's ε (the paper's code: tf.contrib.layers.batch_norm's default 0.001).</summary>
    public double BatchNormEps { get; init; } = 1e-3;

    public OmniglotConvNet(int ways, Generator? generator = null, ScalarType? dtype = null, int filters = 64, int inChannels = 1)
    {
        if (ways < 1 || filters < 1 || inChannels < 1) throw new ArgumentOutOfRangeException(nameof(ways), $"need ways, filters and channels ≥ 1, got {ways}, {filters}, {inChannels}");
        Ways = ways;
        Filters = filters;
        long c = inChannels;
        for (var i = 1; i <= Blocks; i++)
        {
            var w = empty([filters, c, 3, 3], dtype);
            nn.init.xavier_uniform_(w, generator: generator);
            RegisterParameter($"conv{i}.weight", w);
            RegisterParameter($"conv{i}.bias", zeros([filters], dtype));
            RegisterParameter($"bn{i}.weight", ones([filters], dtype));
            RegisterParameter($"bn{i}.bias", zeros([filters], dtype));
            c = filters;
        }
        var head = empty([ways, filters], dtype);
        nn.init.normal_(head, 0, 1, generator);
        RegisterParameter("head.weight", head);
        RegisterParameter("head.bias", zeros([ways], dtype));
    }

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        var perTask = p[0].dim() == 5;
        if (x.dim() == 4)
        {
            if (perTask) throw new ArgumentException("OmniglotConvNet: per-task parameters need input [tasks, M, C, H, W].");
            return Shared(x, p);
        }
        if (x.dim() != 5) throw new ArgumentException($"OmniglotConvNet: input must be [B, C, H, W] or [tasks, M, C, H, W], got [{string.Join(", ", x.shape)}].");
        var tasks = x.size(0);
        if (!perTask && tasks == 1)
        {
            using var flat = x.squeeze(0);
            using var logits = Shared(flat, p);
            return logits.unsqueeze(0);
        }
        using var scope = NewDisposeScope();
        var parameters = perTask ? p : p.Select(t => t.unsqueeze(0).expand([tasks, .. t.shape])).ToArray();
        if (parameters[0].size(0) != tasks)
            throw new ArgumentException($"OmniglotConvNet: parameters for {parameters[0].size(0)} tasks, input for {tasks}.");
        return Grouped(x, parameters).MoveToOuterDisposeScope();
    }

    /// <summary>One batch with one set of parameters: x [B, C, H, W] → [B, N].</summary>
    private Tensor Shared(Tensor x, IReadOnlyList<Tensor> p)
    {
        using var scope = NewDisposeScope();
        var h = Rotate180(x);
        for (var i = 0; i < Blocks; i++)
        {
            h = F.conv2d(h, Rotate180(p[4 * i]), p[4 * i + 1], stride: 2, padding: 1);
            h = F.batch_norm(h, null, null, p[4 * i + 2], p[4 * i + 3], training: true, eps: BatchNormEps).relu_();
        }
        var features = h.mean([2L, 3L]);
        return F.linear(features, p[4 * Blocks], p[4 * Blocks + 1]).MoveToOuterDisposeScope();
    }

    /// <summary>T tasks with T parameter sets in one graph: x [T, M, C, H, W], parameters [T, …] → [T, M, N].</summary>
    private Tensor Grouped(Tensor x, IReadOnlyList<Tensor> p)
    {
        long tasks = x.size(0), m = x.size(1);
        // [T, M, C, H, W] → [M, T·C, H, W]: task t owns channels t·C … t·C + C − 1.
        var h = Rotate180(x.transpose(0, 1).reshape(m, tasks * x.size(2), x.size(3), x.size(4)));
        for (var i = 0; i < Blocks; i++)
        {
            var w = p[4 * i];
            var weight = Rotate180(w.reshape(tasks * w.size(1), w.size(2), w.size(3), w.size(4)));
            h = F.conv2d(h, weight, p[4 * i + 1].reshape(-1), stride: 2, padding: 1, groups: tasks);
            h = F.batch_norm(h, null, null, p[4 * i + 2].reshape(-1), p[4 * i + 3].reshape(-1), training: true, eps: BatchNormEps).relu_();
        }
        // [M, T·F, 2, 2] → mean → [M, T, F] → [T, M, F]; logits = b + h Wᵀ per task.
        var features = h.mean([2L, 3L]).view(m, tasks, -1).transpose(0, 1);
        var head = p[4 * Blocks];
        return p[4 * Blocks + 1].unsqueeze(1).baddbmm(features, head.transpose(1, 2));
    }

    /// <summary>
    /// The image and every kernel turned by 180°. 'SAME' pads after the image ((0, 1) at 28, 14 and 4; (1, 1) at 7),
    /// PyTorch's padding = 1 on both sides; in the turned frame the two coincide: conv_same(x, w) =
    /// rot(conv(rot x, rot w, padding 1)) at every size here, so the blocks run on turned maps (batch norm, ReLU and
    /// the final mean do not care) with libtorch's built-in padding, ~20% faster per second-order meta-iteration than
    /// an explicit <see cref="SamePad"/> before each convolution (measured with the PyTorch peer); the outputs are the
    /// same to rounding (a test compares them with <see cref="SamePad"/>).
    /// </summary>
    private static Tensor Rotate180(Tensor t) => t.flip(-2, -1);

    /// <summary>
    /// TensorFlow's 'SAME' padding for a 3×3 kernel with stride 2: total max((⌈H/2⌉ − 1)·2 + 3 − H, 0), the odd pixel
    /// after. For even H (28, 14, 4) that is 0 before and 1 after, not PyTorch's symmetric padding = 1 (the same
    /// output size, shifted by one pixel); for H = 7 it is 1 and 1.
    /// </summary>
    public static Tensor SamePad(Tensor h)
    {
        long Total(long size) => Math.Max(((size + 1) / 2 - 1) * 2 + 3 - size, 0);
        long th = Total(h.size(2)), tw = Total(h.size(3));
        return F.pad(h, [tw / 2, tw - tw / 2, th / 2, th - th / 2]);
    }
}
