using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>
/// Siamese networks (Koch, Zemel, Salakhutdinov 2015): twin encoders with shared weights h = f(x), a weighted L1
/// distance and a sigmoid, p(same | x₁, x₂) = σ(Σⱼ αⱼ |h₁ⱼ − h₂ⱼ| + b), trained with binary cross-entropy on
/// same/different pairs. One-shot classification: the class of the most similar support image (K-shot: the best of
/// its K). The encoder is any module mapping [n, …] to [n, D]: the 4-block conv encoder in the 28×28 Vinyals setting
/// (<see cref="Convolutional"/>), an MLP for the MNIST example (<see cref="MultiLayer"/>). Two objectives share the
/// head and <see cref="BinaryCrossEntropy"/>: explicit pairs (<see cref="PairLoss"/>) and every (query, support) pair of
/// episodes (<see cref="Loss"/>).
/// </summary>
public sealed class SiameseNetwork : nn.Module, IEpisodeLearner, IEmbeddingClassifier
{
    public nn.Module Encoder { get; }
    /// <summary>The αⱼ and b of the head.</summary>
    public nn.Linear Head { get; }

    /// <param name="encoder">The twin: [n, …] → [n, embeddingSize].</param>
    /// <param name="name">The method's name in tables (e.g. "Convolutional Siamese Net").</param>
    public SiameseNetwork(nn.Module encoder, long embeddingSize = 64, Generator? generator = null, string name = "Siamese Net")
    {
        Encoder = RegisterModule("encoder", encoder);
        Head = RegisterModule("head", new nn.Linear(embeddingSize, 1, generator: generator));
        Name = name;
    }

    /// <summary>The 4-block conv encoder of the 28×28 Vinyals setting (64-d).</summary>
    public static SiameseNetwork Convolutional(Generator? generator = null) => new(new ConvEncoder(generator: generator), 64, generator, "Convolutional Siamese Net");

    /// <summary>
    /// A fully connected twin on flattened images: Mlp(inputs, hidden…, embedding) with ReLU between layers, e.g.
    /// 784→128→128→64 for MNIST, the course's small example.
    /// </summary>
    /// <param name="inputDropout">Dropout on the pixels while training (a regulariser for small training sets; 0: none).
    /// Its masks come from `dropoutGenerator` (null: libtorch's global generator, see torch.manual_seed).</param>
    public static SiameseNetwork MultiLayer(long[] sizes, Generator? generator = null, double inputDropout = 0, Generator? dropoutGenerator = null)
    {
        var twin = inputDropout > 0
            ? new nn.Sequential(new nn.Flatten(), new nn.Dropout(inputDropout, dropoutGenerator), new Mlp(sizes, generator))
            : new nn.Sequential(new nn.Flatten(), new Mlp(sizes, generator));
        return new SiameseNetwork(twin, sizes[^1], generator, "MLP Siamese Net");
    }

    public string Name { get; }
    public nn.Module Model => this;

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) =>
        throw new NotSupportedException("Call PairLogits, Scores or Loss.");

    /// <summary>The logit of "same" for every pair of rows of h₁ [..., D] and h₂ [..., D] (broadcast): Σ αⱼ|h₁ⱼ − h₂ⱼ| + b.</summary>
    public Tensor PairLogits(Tensor h1, Tensor h2)
    {
        using var d = (h1 - h2).abs();
        using var logit = Head.forward(d);
        return logit.squeeze(-1);
    }

    /// <summary>p(same) of two image batches [n, …] pairwise (row i with row i).</summary>
    public Tensor Similarity(Tensor x1, Tensor x2)
    {
        using var logits = PairLogitsOfImages(x1, x2);
        return logits.sigmoid();
    }

    public Tensor EmbedImages(Tensor images)
    {
        using var z = Encoder.forward(images);
        return z.reshape(z.size(0), -1, 1, 1);
    }

    /// <summary>Logits of every (query, support) pair: [T, M, NK].</summary>
    private Tensor AllPairLogits(Tensor zs, Tensor zq) => PairLogits(zq.unsqueeze(2), zs.unsqueeze(1));

    private static Tensor BestPerClass(Tensor logits, Tensor supportLabels, int ways) => EpisodeMetrics.BestPerClass(logits, supportLabels, ways);

    private (Tensor Support, Tensor Query) Embed(TaskBatch batch)
    {
        using var scope = NewDisposeScope();
        var nk = batch.SupportInputs.size(1);
        var all = cat([batch.SupportInputs, batch.QueryInputs], 1);
        var z = Encoder.forward(all.reshape([-1, .. all.shape[2..]]));
        z = z.view(all.size(0), all.size(1), -1);
        return (z.narrow(1, 0, nk).MoveToOuterDisposeScope(), z.narrow(1, nk, z.size(1) - nk).MoveToOuterDisposeScope());
    }

    public Tensor Scores(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var (zs, zq) = Embed(batch);
        return BestPerClass(AllPairLogits(zs, zq), batch.SupportTargets, ways).MoveToOuterDisposeScope();
    }

    public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways)
    {
        using var scope = NewDisposeScope();
        return BestPerClass(AllPairLogits(embedded.SupportInputs.flatten(2), embedded.QueryInputs.flatten(2)), embedded.SupportTargets, ways)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Binary cross-entropy over every (query, support) pair of the episodes, target 1 when they share a class.
    /// An N-way episode has N−1 different pairs per same pair; positives are weighted by N−1 so both kinds weigh
    /// alike, as Koch's balanced pair sets.
    /// </summary>
    public Tensor Loss(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var (zs, zq) = Embed(batch);
        var logits = AllPairLogits(zs, zq);                                                        // [T, M, NK]
        var same = batch.QueryTargets.unsqueeze(2).eq(batch.SupportTargets.unsqueeze(1)).to(ScalarType.Float32);
        return BinaryCrossEntropy(logits, same, positiveWeight: ways - 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The verification objective on explicit pairs (x₁ᵢ, x₂ᵢ) with targets yᵢ = 1 (same class) or 0: the mean binary
    /// cross-entropy of p(same). Both images go through the encoder in one batch, so batch norm sees both sides.
    /// </summary>
    public Tensor PairLoss(Tensor x1, Tensor x2, Tensor same)
    {
        using var scope = NewDisposeScope();
        return BinaryCrossEntropy(PairLogitsOfImages(x1, x2), same).MoveToOuterDisposeScope();
    }

    /// <summary>The logit of "same" for pairs of images (row i with row i): [n].</summary>
    public Tensor PairLogitsOfImages(Tensor x1, Tensor x2)
    {
        using var scope = NewDisposeScope();
        var n = x1.size(0);
        var h = Encoder.forward(cat([x1, x2], 0));
        return PairLogits(h.narrow(0, 0, n), h.narrow(0, n, h.size(0) - n)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// −[y log σ(ℓ) + (1 − y) log(1 − σ(ℓ))], averaged; "same" terms weighted by `positiveWeight` (to balance episodes
    /// that hold more different pairs than same ones). Computed from the logits, which is stable where σ saturates.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor same, double positiveWeight = 1)
    {
        if (positiveWeight == 1) return nn.functional.binary_cross_entropy_with_logits(logits, same);
        using var w = tensor(positiveWeight).to(ScalarType.Float32);
        return nn.functional.binary_cross_entropy_with_logits(logits, same, posWeight: w);
    }
}
