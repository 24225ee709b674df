using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Metric;

/// <summary>How the attention kernel a(x̂, xᵢ) compares a query embedding f with a support embedding g.</summary>
public enum MatchingKernel
{
    /// <summary>
    /// f·g / (‖f‖ ‖g‖), Eq. 2 as the paper writes it. Every logit lies in [−1, 1] (in [0, 1] for ReLU embeddings), so
    /// the softmax cannot be sharp: on 20 support examples a perfect match gets at most e/(e + 19) ≈ 0.125.
    /// </summary>
    Cosine,
    /// <summary>
    /// f·g / ‖g‖ = ‖f‖ cos(f, g): only the support embeddings are normalised, as in the widely used re-implementations
    /// (AntreasAntoniou/MatchingNetworks, and the ports built on it). The query's norm is a learned inverse temperature
    /// of the softmax; the ranking of the support set is still the cosine's.
    /// </summary>
    SupportNormalized,
}

/// <summary>
/// Matching networks (Vinyals et al. 2016). A query x̂ is labelled by attention over the support set,
/// ŷ = Σᵢ a(x̂, xᵢ) yᵢ (Eq. 1), with a(x̂, xᵢ) = softmaxᵢ cos(f(x̂), g(xᵢ)) (Eq. 2). Without full-context embeddings
/// (FCE) f = g = the conv encoder. With FCE:
/// <list type="bullet">
/// <item>g(xᵢ, S) = h⃗ᵢ + h⃖ᵢ + g′(xᵢ): a bidirectional LSTM over the support set read as a sequence, plus a skip
/// connection from the encoder output g′;</item>
/// <item>f(x̂, S) = attLSTM(f′(x̂), g(S), K): K read steps ĥₖ, cₖ = LSTM(f′(x̂), [hₖ₋₁, rₖ₋₁], cₖ₋₁); hₖ = ĥₖ + f′(x̂);
/// rₖ = Σᵢ softmaxᵢ(hₖᵀ g(xᵢ)) g(xᵢ). The LSTM's recurrent input [hₖ₋₁, rₖ₋₁] is given as their sum, hₖ₋₁ + rₖ₋₁, so
/// all sizes stay the embedding size (as oscarknagg/few-shot does; the paper gives no sizes).</item>
/// </list>
/// The kernel is <see cref="MatchingKernel"/>: the paper's cosine, or the re-implementations' support-normalised form.
/// The loss is −log ŷ of the true class, averaged over queries (the paper's objective over sampled label sets:
/// every training episode samples a fresh label set, support set and batch).
/// </summary>
public sealed class MatchingNetwork : nn.Module, IEpisodeLearner, IEmbeddingClassifier
{
    public ConvEncoder Encoder { get; }
    public bool FullContext { get; }
    /// <summary>K, the attention LSTM's read steps (not given in the paper).</summary>
    public int ReadSteps { get; }
    public MatchingKernel Kernel { get; }
    private readonly nn.LSTMCell? forwardCell, backwardCell, attentionCell;
    private readonly long dim;

    public MatchingNetwork(ConvEncoder encoder, bool fullContext = false, int readSteps = 5, long embeddingSize = 64, Generator? generator = null,
                           MatchingKernel kernel = MatchingKernel.Cosine)
    {
        if (!Enum.IsDefined(kernel)) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown matching kernel");
        Encoder = RegisterModule("encoder", encoder);
        FullContext = fullContext;
        ReadSteps = readSteps;
        Kernel = kernel;
        dim = embeddingSize;
        if (fullContext)
        {
            forwardCell = RegisterModule("g_forward", new nn.LSTMCell(dim, dim, generator: generator));
            backwardCell = RegisterModule("g_backward", new nn.LSTMCell(dim, dim, generator: generator));
            attentionCell = RegisterModule("f_attention", new nn.LSTMCell(dim, dim, generator: generator));
        }
    }

    public string Name => FullContext ? "Matching Nets FCE" : "Matching Nets";
    public nn.Module Model => this;

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> parameters) =>
        throw new NotSupportedException("A matching network scores episodes: call Scores(batch, ways) or Loss(batch, ways).");

    /// <summary>g(xᵢ, S) for the support set [T, NK, D]: bidirectional LSTM over the sequence plus the skip connection.</summary>
    public Tensor SupportEmbedding(Tensor gPrime)
    {
        if (!FullContext) return gPrime.view(gPrime.shape);
        using var scope = NewDisposeScope();
        var (t, n) = (gPrime.size(0), gPrime.size(1));
        var forward = new Tensor[n];
        var backward = new Tensor[n];
        var state = (zeros(t, dim), zeros(t, dim));
        for (var i = 0; i < n; i++)
        {
            state = forwardCell!.Step(gPrime.select(1, i), state);
            forward[i] = state.Item1;
        }
        state = (zeros(t, dim), zeros(t, dim));
        for (var i = n - 1; i >= 0; i--)
        {
            state = backwardCell!.Step(gPrime.select(1, i), state);
            backward[i] = state.Item1;
        }
        return (stack(forward, 1) + stack(backward, 1) + gPrime).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// f(x̂, S) for queries fPrime [T, M, D] given the support embeddings g [T, NK, D]; also returns each read step's
    /// attention over the support set, [T, M, NK] (rows sum to 1).
    /// </summary>
    public (Tensor F, IReadOnlyList<Tensor> Attention) QueryEmbedding(Tensor fPrime, Tensor g)
    {
        if (!FullContext) return (fPrime.view(fPrime.shape), []);
        using var scope = NewDisposeScope();
        var (t, m) = (fPrime.size(0), fPrime.size(1));
        var x = fPrime.reshape(t * m, dim);
        var h = x;
        var c = zeros(t * m, dim);
        var r = zeros(t * m, dim);
        var attention = new List<Tensor>();
        for (var k = 0; k < ReadSteps; k++)
        {
            var (hHat, cNext) = attentionCell!.Step(x, (h + r, c));
            h = hHat + x;
            c = cNext;
            var a = h.view(t, m, dim).bmm(g.transpose(1, 2)).softmax(2);   // [T, M, NK]
            r = a.bmm(g).view(t * m, dim);
            attention.Add(a.MoveToOuterDisposeScope());
        }
        return (h.view(t, m, dim).MoveToOuterDisposeScope(), attention);
    }

    /// <summary>a(x̂, xᵢ) = softmaxᵢ k(f(x̂), g(xᵢ)) for queries f [T, M, D] and support g [T, NK, D]: [T, M, NK].</summary>
    public static Tensor Attention(Tensor f, Tensor g, MatchingKernel kernel = MatchingKernel.Cosine)
    {
        using var scope = NewDisposeScope();
        var fn = kernel == MatchingKernel.Cosine ? f / f.norm(2, 2, keepdim: true).clamp_min(1e-8) : f;
        var gn = g / g.norm(2, 2, keepdim: true).clamp_min(1e-8);
        return fn.bmm(gn.transpose(1, 2)).softmax(2).MoveToOuterDisposeScope();
    }

    /// <summary>ŷ = Σᵢ a(x̂, xᵢ) yᵢ: a probability per class, [T, M, N].</summary>
    public Tensor Probabilities(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var (gPrime, fPrime) = EncoderOutputs(batch);
        return Probabilities(gPrime, batch.SupportTargets, fPrime, ways).MoveToOuterDisposeScope();
    }

    /// <summary>ŷ from encoder outputs g′ [T, NK, D] (support) and f′ [T, M, D] (queries).</summary>
    public Tensor Probabilities(Tensor gPrime, Tensor supportLabels, Tensor fPrime, int ways)
    {
        using var scope = NewDisposeScope();
        return AttentionWeights(gPrime, fPrime).bmm(EpisodeMetrics.OneHot(supportLabels, ways)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The attention a(x̂, xᵢ) of every query over every support example of the batch's episodes, [T, M, NK], rows
    /// summing to 1: what the classifier reads the labels with (after the full-context embeddings, if any).
    /// </summary>
    public Tensor AttentionWeights(TaskBatch batch)
    {
        using var scope = NewDisposeScope();
        var (gPrime, fPrime) = EncoderOutputs(batch);
        return AttentionWeights(gPrime, fPrime).MoveToOuterDisposeScope();
    }

    /// <summary>a(x̂, xᵢ) from encoder outputs g′ [T, NK, D] (support) and f′ [T, M, D] (queries): [T, M, NK].</summary>
    public Tensor AttentionWeights(Tensor gPrime, Tensor fPrime)
    {
        if (gPrime.dim() != 3 || fPrime.dim() != 3 || gPrime.size(0) != fPrime.size(0) || gPrime.size(2) != fPrime.size(2) || (FullContext && gPrime.size(2) != dim))
            throw new ArgumentException($"need support embeddings [T, NK, D] and query embeddings [T, M, D]{(FullContext ? $" with D = {dim}" : "")}; " +
                                        $"got [{string.Join(", ", gPrime.shape)}] and [{string.Join(", ", fPrime.shape)}]");
        using var scope = NewDisposeScope();
        var g = SupportEmbedding(gPrime);
        var (f, _) = QueryEmbedding(fPrime, g);
        return Attention(f, g, Kernel).MoveToOuterDisposeScope();
    }

    /// <summary>g′(xᵢ) [T, NK, D] and f′(x̂) [T, M, D]: support and queries through the encoder in one batch (batch norm sees both).</summary>
    private (Tensor Support, Tensor Query) EncoderOutputs(TaskBatch batch)
    {
        using var scope = NewDisposeScope();
        var nk = batch.SupportInputs.size(1);
        var z = Encoder.Embed(cat([batch.SupportInputs, batch.QueryInputs], 1));
        return (z.narrow(1, 0, nk).MoveToOuterDisposeScope(), z.narrow(1, nk, z.size(1) - nk).MoveToOuterDisposeScope());
    }

    public Tensor EmbedImages(Tensor images)
    {
        using var z = Encoder.forward(images);
        return z.reshape(z.size(0), -1, 1, 1);
    }

    public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways) =>
        Probabilities(embedded.SupportInputs.flatten(2), embedded.SupportTargets, embedded.QueryInputs.flatten(2), ways);

    public Tensor Scores(TaskBatch batch, int ways) => Probabilities(batch, ways);

    public Tensor Loss(TaskBatch batch, int ways)
    {
        using var scope = NewDisposeScope();
        var logp = Probabilities(batch, ways).clamp_min(1e-8).log();
        return nn.functional.nll_loss(logp.reshape(-1, ways), batch.QueryTargets.reshape(-1)).MoveToOuterDisposeScope();
    }
}
