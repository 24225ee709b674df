using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// MetaNet's memory read (docs/metanet.md §2.6, §5): a query's key r is compared with every support key Rᵢ by
///   aᵢ = ⟨Rᵢ, r⟩ / sqrt(‖Rᵢ‖²·‖r‖² + 1e−6)
/// (the ε inside the root, on the product of squared norms, as the authors' <c>cosine_similarity2d</c>; a zero
/// vector gives 0, not NaN), p = softmax(a) over the support set, and the query's fast weights are the convex
/// combination W* = Σᵢ pᵢ Mᵢ of the stored ones. No temperature, no key/value projections.
/// The batched form (spec §10.3) reads every query at once; the per-query form is the authors' loop, kept as the
/// reference the batched form is tested against.
/// </summary>
public static class CosineAttention
{
    public const double Eps = 1e-6;

    /// <summary>Cosine scores of every query against every key: queries [L, D], keys [N, D] → [L, N].</summary>
    public static Tensor Scores(Tensor queries, Tensor keys, double eps = Eps)
    {
        using var scope = NewDisposeScope();
        var dots = queries.mm(keys.t());
        var norms = queries.square().sum(1, keepdim: true) * keys.square().sum(1).unsqueeze(0);
        return (dots / (norms + eps).sqrt()).MoveToOuterDisposeScope();
    }

    /// <summary>p = softmax over the keys of the cosine scores: [L, N].</summary>
    public static Tensor Weights(Tensor queries, Tensor keys, double eps = Eps)
    {
        using var a = Scores(queries, keys, eps);
        return a.softmax(1);
    }

    /// <summary>W* for every query: p [L, N] times memory [N, P] → [L, P].</summary>
    public static Tensor Read(Tensor weights, Tensor memory) => weights.mm(memory);

    /// <summary>The authors' per-query read: one query key r [D] → its fast weights [P] = Σᵢ softmax(a)ᵢ Mᵢ.</summary>
    public static Tensor ReadOne(Tensor query, Tensor keys, Tensor memory, double eps = Eps)
    {
        using var scope = NewDisposeScope();
        var a = keys.matmul(query) / (keys.square().sum(1) * query.square().sum() + eps).sqrt();   // [N]
        var p = a.softmax(0);
        return p.matmul(memory).MoveToOuterDisposeScope();                                        // [P]
    }
}
