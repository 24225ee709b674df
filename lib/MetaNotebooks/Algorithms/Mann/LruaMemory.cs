using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Mann;

/// <summary>
/// The memory of a batch of episodes between two time steps: M [B, N, D], usage w^u [B, N], each head's read weights
/// w^r [B, H, N], the least-used weights w^lu [B, N] (1 on the H slots of smallest usage, 0 elsewhere) and the slot to
/// erase before the next write [B, N] (one-hot on the least-used slot). The last two are functions of the usage,
/// kept so that one step reads them as "t − 1" exactly as Santoro et al.'s equations (6)–(8) do.
/// </summary>
public sealed record LruaState(Tensor Memory, Tensor Usage, Tensor ReadWeights, Tensor LeastUsed, Tensor Erase)
{
    public IEnumerable<Tensor> Tensors => [Memory, Usage, ReadWeights, LeastUsed, Erase];
}

/// <summary>What one step of the memory produced: the new state, the reads r_t [B, H, D] and the write weights w^w_t [B, H, N].</summary>
public sealed record LruaStep(LruaState State, Tensor Reads, Tensor WriteWeights);

/// <summary>
/// The Least Recently Used Access memory of Santoro et al. (ICML 2016, §3.1 "Least Recently Used Access"), batched over
/// episodes and heads. Pure functions of tensors: no parameters, no hidden state (the controller's head outputs come in,
/// the new memory state goes out), so each equation can be read, tested and differentiated on its own.
/// <para>
/// One step t, with keys k_t, add vectors a_t and write gates α_t from the controller (one of each per head h):
/// <list type="number">
/// <item>write weights (7): w^w_t = σ(α_t) w^r_{t−1} + (1 − σ(α_t)) w^lu_{t−1}: the gate chooses between the slot the
/// head read last (to update a memory) and the least-used slots (to store a new one);</item>
/// <item>erase, then write (8): the least-used slot of w^u_{t−1} is set to zero, then M_t(i) = M_{t−1}(i) + Σ_h w^w_t(h, i) a_t(h);</item>
/// <item>read (2)–(4): w^r_t(h, i) = softmax_i K(k_t(h), M_t(i)) with K the cosine similarity, r_t(h) = Σ_i w^r_t(h, i) M_t(i);</item>
/// <item>usage (5): w^u_t = γ w^u_{t−1} + Σ_h (w^r_t(h) + w^w_t(h));</item>
/// <item>least used (6): w^lu_t(i) = 1 if w^u_t(i) is among the H smallest (m(w^u_t, n) with n = H reads), else 0.</item>
/// </list>
/// The paper's (8) adds the key k_t itself; like the public reimplementations, each head here writes its own add vector
/// a_t, so that reading with k_t does not always find the row k_t was just written to (a row equal to the key has cosine
/// 1, the highest possible score). The paper's (6) leaves ties open; here the H smallest are taken by topk, which breaks
/// ties deterministically (at t = 0 every usage is 0).
/// </para>
/// </summary>
public static class LruaMemory
{
    /// <summary>ε in the cosine's denominator √(‖k‖²‖M(i)‖² + ε): an all-zero row scores 0, not NaN, and stays differentiable.</summary>
    public const double CosineEps = 1e-8;

    /// <summary>The memory's value before the first write: every cell 1e−6, so that no row has zero norm (as the reimplementations).</summary>
    public const double InitialValue = 1e-6;

    /// <summary>The state at t = 0 for B episodes: M = 1e−6, no usage, no previous read, least-used slots from the zero usage.</summary>
    public static LruaState Initial(long batch, long slots, long width, long heads, ScalarType? dtype = null)
    {
        using var scope = NewDisposeScope();
        var usage = zeros([batch, slots], dtype);
        var (leastUsed, erase) = LeastUsed(usage, heads);
        var state = new LruaState(full([batch, slots, width], InitialValue, dtype), usage, zeros([batch, heads, slots], dtype), leastUsed, erase);
        foreach (var t in state.Tensors) t.MoveToOuterDisposeScope();
        return state;
    }

    /// <summary>
    /// (6): the least-used weights w^lu [B, N] (1 on the `n` slots of smallest usage) and the erase mask [B, N] (1 on the
    /// single slot of smallest usage). Both are piecewise constant in the usage: no gradient flows through them.
    /// </summary>
    public static (Tensor LeastUsed, Tensor Erase) LeastUsed(Tensor usage, long n)
    {
        if (usage.dim() != 2) throw new ArgumentException($"LruaMemory.LeastUsed: usage must be [B, N], got [{string.Join(", ", usage.shape)}].");
        if (n < 1 || n > usage.size(1)) throw new ArgumentOutOfRangeException(nameof(n), n, $"the number of least-used slots must be in 1…{usage.size(1)} (the memory's slots).");
        using var scope = NewDisposeScope();
        var slots = usage.size(1);
        var (_, smallest) = usage.detach().topk(n, dim: 1, largest: false, sorted: true);    // [B, n], smallest first
        var leastUsed = nn.functional.one_hot(smallest, slots).sum(1).to(usage.dtype);
        var erase = nn.functional.one_hot(smallest.select(1, 0), slots).to(usage.dtype);
        return (leastUsed.MoveToOuterDisposeScope(), erase.MoveToOuterDisposeScope());
    }

    /// <summary>(7): w^w_t = σ(α) w^r_{t−1} + (1 − σ(α)) w^lu_{t−1}; gates α [B, H] (before the sigmoid), read weights [B, H, N], w^lu [B, N] → [B, H, N].</summary>
    public static Tensor WriteWeights(Tensor gates, Tensor previousReadWeights, Tensor previousLeastUsed)
    {
        using var scope = NewDisposeScope();
        var open = gates.sigmoid().unsqueeze(-1);                                              // [B, H, 1]
        return (open * previousReadWeights + (1 - open) * previousLeastUsed.unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>(8): the erase slot zeroed, then M_t = M_{t−1} + Σ_h w^w(h)ᵀ a(h); memory [B, N, D], write weights [B, H, N], adds [B, H, D].</summary>
    public static Tensor Write(Tensor memory, Tensor erase, Tensor writeWeights, Tensor adds)
    {
        using var scope = NewDisposeScope();
        var kept = memory * (1 - erase).unsqueeze(-1);
        return kept.baddbmm(writeWeights.transpose(1, 2), adds).MoveToOuterDisposeScope();
    }

    /// <summary>(2): K(k(h), M(i)) = ⟨k, M(i)⟩ / √(‖k‖²‖M(i)‖² + ε); keys [B, H, D], memory [B, N, D] → [B, H, N].</summary>
    public static Tensor Cosine(Tensor keys, Tensor memory)
    {
        using var scope = NewDisposeScope();
        var dots = keys.bmm(memory.transpose(1, 2));
        var norms = keys.square().sum(-1, keepdim: true) * memory.square().sum(-1).unsqueeze(1);
        return (dots / (norms + CosineEps).sqrt()).MoveToOuterDisposeScope();
    }

    /// <summary>(3): w^r(h, i) = softmax over the slots of the cosine similarities → [B, H, N].</summary>
    public static Tensor ReadWeights(Tensor keys, Tensor memory)
    {
        using var cosine = Cosine(keys, memory);
        return cosine.softmax(-1);
    }

    /// <summary>(4): r(h) = Σ_i w^r(h, i) M(i): read weights [B, H, N], memory [B, N, D] → [B, H, D].</summary>
    public static Tensor Read(Tensor readWeights, Tensor memory) => readWeights.bmm(memory);

    /// <summary>(5): w^u_t = γ w^u_{t−1} + Σ_h (w^r_t(h) + w^w_t(h)) → [B, N].</summary>
    public static Tensor Usage(Tensor previousUsage, double gamma, Tensor readWeights, Tensor writeWeights)
    {
        using var scope = NewDisposeScope();
        return (previousUsage * gamma + readWeights.sum(1) + writeWeights.sum(1)).MoveToOuterDisposeScope();
    }

    /// <summary>One time step (7), (8), (2)–(4), (5), (6) in that order; keys and adds [B, H, D], gates [B, H].</summary>
    public static LruaStep Step(LruaState previous, Tensor keys, Tensor adds, Tensor gates, double gamma)
    {
        var heads = previous.ReadWeights.size(1);
        if (keys.dim() != 3 || keys.size(1) != heads || keys.size(2) != previous.Memory.size(2) || !keys.shape.SequenceEqual(adds.shape) || gates.dim() != 2 || gates.size(1) != heads)
            throw new ArgumentException($"LruaMemory.Step: keys and adds must be [B, {heads}, {previous.Memory.size(2)}] and gates [B, {heads}]; " +
                                        $"got keys [{string.Join(", ", keys.shape)}], adds [{string.Join(", ", adds.shape)}], gates [{string.Join(", ", gates.shape)}].");
        using var scope = NewDisposeScope();
        var writeWeights = WriteWeights(gates, previous.ReadWeights, previous.LeastUsed);
        var memory = Write(previous.Memory, previous.Erase, writeWeights, adds);
        var readWeights = ReadWeights(keys, memory);
        var reads = Read(readWeights, memory);
        var usage = Usage(previous.Usage, gamma, readWeights, writeWeights);
        var (leastUsed, erase) = LeastUsed(usage, heads);
        var state = new LruaState(memory, usage, readWeights, leastUsed, erase);
        foreach (var t in state.Tensors.Append(reads).Append(writeWeights)) t.MoveToOuterDisposeScope();
        return new LruaStep(state, reads, writeWeights);
    }
}
