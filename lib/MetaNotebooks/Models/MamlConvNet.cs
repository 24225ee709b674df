using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Models;

/// <summary>How each of the four blocks halves the image (cbfinn/maml utils.py <c>conv_block</c>, flag <c>max_pool</c>).</summary>
public enum Downsampling
{
    /// <summary>Omniglot: 3×3 convolutions with stride 2 ('SAME'); the head reads the mean over the final map (features = filters).</summary>
    StridedConvolution,
    /// <summary>
    /// Mini-ImageNet: 3×3 convolutions with stride 1 ('SAME' = padding 1) and a 2×2 max-pool ('VALID': odd sizes lose
    /// their last row and column) after batch norm and ReLU; the head reads the final map flattened (features =
    /// filters · s · s, 32 · 5 · 5 = 800 at 84×84), as the paper's code does for Mini-ImageNet (maml.py <c>forward_conv</c>).
    /// </summary>
    MaxPool,
}

/// <summary>
/// MAML's convolutional network (Finn et al. 2017, appendix A.1; cbfinn/maml utils.py <c>conv_block</c> and maml.py
/// <c>construct_conv_weights</c> / <c>forward_conv</c>): 4 blocks of [3×3 convolution, F filters; batch norm; ReLU], each
/// halving the image either by stride 2 (Omniglot: 1×28×28, 64 filters, 28 → 14 → 7 → 4 → 2, the mean over the final 2×2
/// map) or by a 2×2 max-pool (Mini-ImageNet: 3×84×84, 32 filters, 84 → 42 → 21 → 10 → 5, the final map flattened); then a
/// linear head to N ways. <see cref="Omniglot"/> and <see cref="MiniImageNet"/> build the paper's two shapes.
/// <para>
/// Batch norm always normalises with the statistics of the batch it is given (as tf.contrib.layers.batch_norm in
/// the paper's code, whose moving averages are never used): there are no running averages, at training or at test.
/// During adaptation a task's support set is normalised with its own statistics and its query set with its own.
/// (The paper's code calls batch_norm with its default scale = False, i.e. no γ; we keep a learned γ, as most
/// reimplementations do: one more vector per block, adapted in the inner loop like the rest.)
/// </para>
/// <para>
/// Parameters, in order: per block conv weight [F, C, 3, 3], conv bias [F], batch-norm scale γ [F] and shift β
/// [F]; then the head [N, D] and its bias [N] (D = F for the mean, F·s·s flattened). Initialisation as the paper's code:
/// Xavier-uniform convolutions, zero biases, γ = 1, β = 0; the head N(0, 1) after the mean (Omniglot), Xavier-uniform
/// after flattening (Mini-ImageNet).
/// </para>
/// <para>
/// Inputs and parameters:
/// <list type="bullet">
/// <item>shared parameters, x [B, C, H, W] → logits [B, N] (one batch, one set of statistics);</item>
/// <item>shared parameters, x [T, M, C, H, W] → [T, M, N]: T tasks, each normalised with its own statistics;</item>
/// <item>per-task parameters (each with a leading task dimension T) and x [T, M, C, H, W] → [T, M, N].</item>
/// </list>
/// With T tasks, all of them run in one graph: tasks move into channels (x as [M, T·C, H, W]), the convolutions
/// are grouped (weight [T·F, C, 3, 3], groups = T), so task t's channels only see task t's filters, and batch norm
/// and max-pool per channel are per task; the head is a batched matrix product (baddbmm).
/// </para>
/// </summary>
public sealed class MamlConvNet : nn.Module
{
    public const int Blocks = 4;
    public int Ways { get; }
    public int Filters { get; }
    public int InChannels { get; }
    /// <summary>The input's height and width (the flattened head's width depends on it).</summary>
    public int ImageSize { get; }
    public Downsampling Downsampling { get; }
    /// <summary>The side of the final feature map: ImageSize halved four times (rounded up by stride 2, down by max-pool).</summary>
    public int FinalMapSize { get; }
    /// <summary>The head's input width: Filters after the mean, Filters · FinalMapSize² flattened.</summary>
    public int Features { get; }
    /// <summary>Batch norm's ε (the paper's code: tf.contrib.layers.batch_norm's default 0.001).</summary>
    public double BatchNormEps { get; init; } = 1e-3;

    /// <summary>The paper's Omniglot network (defaults) or any other shape; see <see cref="Omniglot"/> and <see cref="MiniImageNet"/>.</summary>
    public MamlConvNet(int ways, Generator? generator = null, ScalarType? dtype = null, int filters = 64, int inChannels = 1,
                       int imageSize = 28, Downsampling downsampling = Downsampling.StridedConvolution)
    {
        if (ways < 1 || filters < 1 || inChannels < 1) throw new ArgumentOutOfRangeException(nameof(ways), $"need ways, filters and channels ≥ 1, got {ways}, {filters}, {inChannels}");
        var final = imageSize;
        for (var i = 0; i < Blocks; i++) final = downsampling == Downsampling.MaxPool ? final / 2 : (final + 1) / 2;
        if (final < 1) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"four {downsampling} blocks need an image of at least {(downsampling == Downsampling.MaxPool ? 16 : 1)} pixels a side.");
        Ways = ways;
        Filters = filters;
        InChannels = inChannels;
        ImageSize = imageSize;
        Downsampling = downsampling;
        FinalMapSize = final;
        Features = downsampling == Downsampling.MaxPool ? filters * final * final : filters;
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
        var head = empty([ways, Features], dtype);
        if (downsampling == Downsampling.MaxPool) nn.init.xavier_uniform_(head, generator: generator);
        else nn.init.normal_(head, 0, 1, generator);
        RegisterParameter("head.weight", head);
        RegisterParameter("head.bias", zeros([ways], dtype));
    }

    /// <summary>The paper's Omniglot network: 1×28×28, 64 filters, stride-2 blocks, mean, head N(0, 1).</summary>
    public static MamlConvNet Omniglot(int ways, Generator? generator = null, ScalarType? dtype = null, int filters = 64) =>
        new(ways, generator, dtype, filters);

    /// <summary>The paper's Mini-ImageNet network: 3×84×84, 32 filters, max-pooled blocks, 800 flattened features, Xavier head.</summary>
    public static MamlConvNet MiniImageNet(int ways, Generator? generator = null, ScalarType? dtype = null, int filters = 32, int imageSize = 84) =>
        new(ways, generator, dtype, filters, inChannels: 3, imageSize: imageSize, downsampling: Downsampling.MaxPool);

    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        var perTask = p[0].dim() == 5;
        if (x.dim() == 4)
        {
            if (perTask) throw new ArgumentException("MamlConvNet: per-task parameters need input [tasks, M, C, H, W].");
            return Shared(x, p);
        }
        if (x.dim() != 5) throw new ArgumentException($"MamlConvNet: input must be [B, C, H, W] or [tasks, M, C, H, W], got [{string.Join(", ", x.shape)}].");
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
            throw new ArgumentException($"MamlConvNet: parameters for {parameters[0].size(0)} tasks, input for {tasks}.");
        return Grouped(x, parameters).MoveToOuterDisposeScope();
    }

    /// <summary>One batch with one set of parameters: x [B, C, H, W] → [B, N].</summary>
    private Tensor Shared(Tensor x, IReadOnlyList<Tensor> p)
    {
        using var scope = NewDisposeScope();
        var h = Blocks4(x, p, groups: 1);
        var features = Downsampling == Downsampling.MaxPool ? h.flatten(1) : h.mean([2L, 3L]);
        return F.linear(features, p[4 * Blocks], p[4 * Blocks + 1]).MoveToOuterDisposeScope();
    }

    /// <summary>T tasks with T parameter sets in one graph: x [T, M, C, H, W], parameters [T, …] → [T, M, N].</summary>
    private Tensor Grouped(Tensor x, IReadOnlyList<Tensor> p)
    {
        long tasks = x.size(0), m = x.size(1);
        // [T, M, C, H, W] → [M, T·C, H, W]: task t owns channels t·C … t·C + C − 1.
        var h = Blocks4(x.transpose(0, 1).reshape(m, tasks * x.size(2), x.size(3), x.size(4)), p, groups: tasks);
        // [M, T·F, s, s] → [T, M, D]; logits = b + h Wᵀ per task.
        var head = p[4 * Blocks];
        return p[4 * Blocks + 1].unsqueeze(1).baddbmm(Pooled(h, tasks), head.transpose(1, 2));
    }

    /// <summary>
    /// The four blocks on x [M, G·C, H, W] with G parameter sets (G = 1: plain; G = T: grouped, the parameters carrying a
    /// leading task dimension) → [M, G·F, s, s].
    /// </summary>
    private Tensor Blocks4(Tensor x, IReadOnlyList<Tensor> p, long groups)
    {
        if (Downsampling == Downsampling.MaxPool && (x.size(2) != ImageSize || x.size(3) != ImageSize))
            throw new ArgumentException($"MamlConvNet: this network's flattened head expects {ImageSize}×{ImageSize} images, got {x.size(2)}×{x.size(3)}.");
        var strided = Downsampling == Downsampling.StridedConvolution;
        var h = strided ? Rotate180(x) : x;
        for (var i = 0; i < Blocks; i++)
        {
            var w = p[4 * i];
            if (w.dim() == 5) w = w.reshape(groups * w.size(1), w.size(2), w.size(3), w.size(4));
            if (strided) w = Rotate180(w);
            h = F.conv2d(h, w, p[4 * i + 1].reshape(-1), stride: strided ? 2 : 1, padding: 1, groups: groups);
            h = F.batch_norm(h, null, null, p[4 * i + 2].reshape(-1), p[4 * i + 3].reshape(-1), training: true, eps: BatchNormEps);
            // ReLU after the pool: max and ReLU commute (ReLU is non-decreasing), values and gradients alike, and the
            // ReLU then runs on a quarter of the pixels.
            h = strided ? h.relu_() : F.max_pool2d(h, 2).relu_();
        }
        return h;
    }

    /// <summary>The head's input from the final maps [M, G·F, s, s]: [G, M, D] (the mean over each map, or group g's F maps flattened, as the shared path's flatten).</summary>
    private Tensor Pooled(Tensor h, long groups)
    {
        var m = h.size(0);
        var features = Downsampling == Downsampling.MaxPool ? h.reshape(m, groups, -1) : h.mean([2L, 3L]).view(m, groups, -1);
        return features.transpose(0, 1);
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
