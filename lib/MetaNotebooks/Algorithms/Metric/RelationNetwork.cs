using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>
/// Relation networks (Sung et al. 2018): the similarity is learned. An embedding module f_φ maps each image to a
/// feature map (Omniglot: 64×5×5); a class's feature map is the sum of its support maps (K-shot); each (class, query)
/// pair is concatenated depth-wise, C(f_φ(xᵢ), f_φ(xⱼ)) (128 channels), and a relation module g_ϕ scores it in [0, 1],
/// r_{i,j} = g_ϕ(C(·,·)) (Eq. 1). Training regresses the scores to one-hot targets with MSE (Eq. 2).
/// Embedding: 4 × [conv 3×3 64, BN, ReLU], max-pool after the first two, padding 0 there and 1 after (the authors'
/// code). Relation module: 2 × [conv 3×3 64, BN, ReLU, max-pool 2], FC → 8 + ReLU, FC 8→1 + sigmoid; on Omniglot the
/// relation convolutions pad by 1 (5 → 2 → 1, FC 64→8), on Mini-ImageNet by 0 (19 → 8 → 3, FC 576→8), as in the
/// authors' two training scripts (<see cref="MiniImageNet"/>).
/// </summary>
public sealed class RelationNetwork : nn.Module, IEpisodeLearner, IEmbeddingClassifier
{
    public ConvEncoder Embedding { get; }
    public ConvEncoder RelationConvs { get; }
    public nn.Linear Hidden { get; }
    public nn.Linear Output { get; }

    /// <param name="relationPadding">Padding of the relation module's two convolutions: 1 on Omniglot, 0 on Mini-ImageNet.</param>
    /// <param name="relationMapSize">The side of the relation module's last feature map, so FC 1 reads 64·side² inputs (Omniglot 1, Mini-ImageNet 3).</param>
    public RelationNetwork(long inChannels = 1, Generator? generator = null, int relationPadding = 1, long relationMapSize = 1)
    {
        Embedding = RegisterModule("embedding", new ConvEncoder(inChannels, 64, 4, pooledBlocks: 2, padding: [0, 0, 1, 1], generator: generator) { Flatten = false });
        RelationConvs = RegisterModule("relation", new ConvEncoder(128, 64, 2, padding: [relationPadding, relationPadding], generator: generator));
        Hidden = RegisterModule("fc1", new nn.Linear(64 * relationMapSize * relationMapSize, 8, generator: generator));
        Output = RegisterModule("fc2", new nn.Linear(8, 1, generator: generator));
    }

    /// <summary>The Mini-ImageNet network of the authors' miniimagenet scripts: 3 input channels, relation convolutions without padding, FC 576→8.</summary>
    public static RelationNetwork MiniImageNet(Generator? generator = null) => new(3, generator, relationPadding: 0, relationMapSize: 3);

    public string Name => "Relation Net";
    public nn.Module Model => this;

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) =>
        throw new NotSupportedException("A relation network scores episodes: call Scores(batch, ways) or Loss(batch, ways).");

    public Tensor EmbedImages(Tensor images) => Embedding.forward(images);

    /// <summary>Relation scores r [T, M, N] in [0, 1] from support maps [T, NK, C, h, w] and query maps [T, M, C, h, w].</summary>
    public Tensor Relations(Tensor support, Tensor supportLabels, Tensor query, int ways)
    {
        using var scope = NewDisposeScope();
        var (t, m) = (query.size(0), query.size(1));
        var mapShape = support.shape[2..];
        // Class feature map: the sum of its support maps (onehotᵀ · maps).
        var y = EpisodeMetrics.OneHot(supportLabels, ways);                                   // [T, NK, N]
        var classes = y.transpose(1, 2).bmm(support.flatten(2)).view([t, ways, .. mapShape]); // [T, N, C, h, w]
        return RelateAll(classes, query).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// g_ϕ(C(class i, query j)) for every pair, the same function as <c>Relate(Concatenate(classMaps, queryMaps))</c>
    /// without building the N·M pairs: the first convolution is linear in its input, so with its kernel split along
    /// the input channels, W = [W_c | W_q], conv(W, C(a, b)) + bias = conv(W_c, a) + conv(W_q, b) + bias. Each class
    /// and query map is convolved once (N + M convolutions instead of N·M) and the halves are summed by broadcasting.
    /// Class maps [T, N, C, h, w], query maps [T, M, C, h, w] → scores [T, M, N].
    /// </summary>
    public Tensor RelateAll(Tensor classMaps, Tensor queryMaps)
    {
        CheckMaps(classMaps, queryMaps);
        using var scope = NewDisposeScope();
        var (t, n, m, c) = (classMaps.size(0), classMaps.size(1), queryMaps.size(1), classMaps.size(2));
        var conv = RelationConvs.FirstConv;
        var a = nn.functional.conv2d(classMaps.flatten(0, 1), conv.weight.narrow(1, 0, c), null, conv.Stride, conv.Padding);
        var b = nn.functional.conv2d(queryMaps.flatten(0, 1), conv.weight.narrow(1, c, c), conv.bias, conv.Stride, conv.Padding);
        var outShape = a.shape[1..];
        var sum = a.view([t, 1, n, .. outShape]) + b.view([t, m, 1, .. outShape]);           // [T, M, N, 64, h, w]
        var h = RelationConvs.ForwardAfterFirstConv(sum.view([-1, .. outShape]));
        return Head(h).view(t, m, n).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// C(f_φ(xᵢ), f_φ(xⱼ)): every (query j, class i) pair of feature maps concatenated along the channels, class first.
    /// Class maps [T, N, C, h, w] and query maps [T, M, C, h, w] → [T, M, N, 2C, h, w].
    /// </summary>
    public static Tensor Concatenate(Tensor classMaps, Tensor queryMaps)
    {
        CheckMaps(classMaps, queryMaps);
        using var scope = NewDisposeScope();
        var (t, n, m) = (classMaps.size(0), classMaps.size(1), queryMaps.size(1));
        var mapShape = classMaps.shape[2..];
        var c = classMaps.unsqueeze(1).expand([t, m, n, .. mapShape]);
        var q = queryMaps.unsqueeze(2).expand([t, m, n, .. mapShape]);
        return cat([c, q], 3).MoveToOuterDisposeScope();
    }

    /// <summary>g_ϕ, the relation module: concatenated pairs [..., 2C, h, w] → relation scores in [0, 1], [...].</summary>
    public Tensor Relate(Tensor pairs)
    {
        if (pairs.dim() < 4) throw new ArgumentException($"need pairs [..., 2C, h, w]; got [{string.Join(", ", pairs.shape)}]");
        using var scope = NewDisposeScope();
        var batchShape = pairs.shape[..^3];
        var h = RelationConvs.forward(pairs.reshape([-1, .. pairs.shape[^3..]]));
        return Head(h).view(batchShape).MoveToOuterDisposeScope();
    }

    /// <summary>g_ϕ after its convolutions: FC 64→8 + ReLU, FC 8→1 + sigmoid.</summary>
    private Tensor Head(Tensor convs) => Output.forward(Hidden.forward(convs).relu()).sigmoid();

    private static void CheckMaps(Tensor classMaps, Tensor queryMaps)
    {
        if (classMaps.dim() != 5 || queryMaps.dim() != 5 || classMaps.size(0) != queryMaps.size(0) || !classMaps.shape[2..].SequenceEqual(queryMaps.shape[2..]))
            throw new ArgumentException($"need class maps [T, N, C, h, w] and query maps [T, M, C, h, w] with the same T, C, h, w; " +
                                        $"got [{string.Join(", ", classMaps.shape)}] and [{string.Join(", ", queryMaps.shape)}]");
    }

    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var nk = batch.SupportInputs.size(1);
        var z = Embed(cat([batch.SupportInputs, batch.QueryInputs], 1));
        return Relations(z.narrow(1, 0, nk), batch.SupportTargets, z.narrow(1, nk, z.size(1) - nk), ways).MoveToOuterDisposeScope();
    }

    public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways) =>
        Relations(embedded.SupportInputs, embedded.SupportTargets, embedded.QueryInputs, ways);

    private Tensor Embed(Tensor images)
    {
        using var flat = images.reshape([-1, .. images.shape[^3..]]);
        using var z = Embedding.forward(flat);
        return z.reshape([.. images.shape[..2], .. z.shape[1..]]);
    }

    /// <summary>MSE between the relation scores and the one-hot targets.</summary>
    public Tensor Loss(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var r = Scores(batch, ways);
        return nn.functional.mse_loss(r, EpisodeMetrics.OneHot(batch.QueryTargets, ways)).MoveToOuterDisposeScope();
    }
}
