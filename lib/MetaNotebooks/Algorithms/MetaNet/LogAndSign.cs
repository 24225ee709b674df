using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// The gradient preprocessing both generators read (docs/metanet.md §2.3, the authors' <c>logAndSign</c> with k = 7 at
/// every call site): each raw gradient coordinate g becomes two features,
///   log feature  max(ln(|g| + ε) / k, −1)      (lower clamp only),
///   sign feature clamp(g·eᵏ, −1, 1),
/// with ε = 2⁻²³ (float32 machine epsilon). Unlike Andrychowicz et al.'s rule both features are always computed,
/// with no branch on |g| ≥ e⁻ᵏ, so the result is a plain function the coordinate-wise networks can learn from.
/// The result is data: it is computed without a graph (MetaNet is first order in its meta-information, spec §9.7).
/// The meta-learner LSTM (Algorithms/MetaLearner) reads its loss and gradients through this too, with k = 10.
/// </summary>
public static class LogAndSign
{
    public const double K = 7;
    /// <summary>float32's machine epsilon, whatever the dtype of g (the authors compute in numpy float32).</summary>
    public const double Eps = 1.1920928955078125e-07;

    /// <summary>g [..., P] → [..., P, 2]: (log feature, sign feature) per coordinate.</summary>
    public static Tensor Apply(Tensor g, double k = K)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var raw = g.detach();
        var log = (raw.abs() + Eps).log().div_(k).clamp_min(-1);
        var sign = (raw * Math.Exp(k)).clamp(-1, 1);
        return stack([log, sign], -1).MoveToOuterDisposeScope();
    }
}
