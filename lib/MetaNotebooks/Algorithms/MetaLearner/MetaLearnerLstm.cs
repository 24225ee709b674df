using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaLearner;

/// <summary>
/// Where the meta-learner is after t updates of a task: the learner's parameters θ_t (the second layer's cell state
/// c_t, [P]), the first layer's state (null before the first step) and the last input and forget gates ([1, P], zero
/// before the first step).
/// </summary>
public sealed record MetaLearnerState(Tensor Parameters, Tensor? Hidden, Tensor? Cell, Tensor Forget, Tensor Input, int Steps)
{
    /// <summary>Moves the state's tensors to the enclosing dispose scope.</summary>
    public MetaLearnerState MoveToOuterDisposeScope()
    {
        foreach (var t in new[] { Parameters, Hidden, Cell, Forget, Input }) t?.MoveToOuterDisposeScope();
        return this;
    }
}

/// <summary>
/// Ravi &amp; Larochelle's meta-learner (ICLR 2017, §3; the authors' code twitter-research/meta-learning-lstm,
/// model/lstm/meta-learner-lstm.lua and lstm-helper.lua): an optimiser that is an LSTM, run coordinate-wise over the P
/// parameters of a learner (every coordinate has its own state; all share the LSTM's weights). Gradient descent,
///   θ_t = θ_{t−1} − α_t ∇_t,
/// is the LSTM cell-state update
///   c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t      with c_t = θ_t, c̃_t = −∇_t, f_t = 1, i_t = α_t;
/// the meta-learner learns the gates instead:
///   i_t = σ(W_I · [h_t, θ_{t−1}, i_{t−1}] + b_I)     (a learning rate per coordinate and step)
///   f_t = σ(W_F · [h_t, θ_{t−1}, f_{t−1}] + b_F)     (a shrinkage of the parameters, weight decay when &lt; 1)
/// and the initial cell state c_0 = θ_0 (the learner's initial parameters) is one of its parameters. h_t is the output
/// of a first, ordinary LSTM layer (20 units) that reads, per coordinate, the preprocessed loss and gradient
/// (<see cref="LogAndSign"/> with k = 10, Andrychowicz et al.'s p = 10: its clamped form is their two-branch rule,
/// (ln|g|/p, sign g) if |g| ≥ e⁻ᵖ else (−1, eᵖg), up to the ε = 2⁻²³ inside the log): the two-layer form of the authors' code.
/// <para>
/// Initialisation as the authors' code: every weight U(−0.01, 0.01), b_F ~ U(4, 5) so that f starts near 1
/// (σ(4.5) ≈ 0.989) and b_I ~ U(−5, −4) so that i starts small (≈ 0.011): the untrained meta-learner is gradient
/// descent with a small step and little decay. c_0 is the learner's own initialisation. The previous gate fed back is
/// its value (the paper's i_{t−1}, f_{t−1}); the authors' code feeds the pre-activation.
/// </para>
/// <para>
/// The gradient ∇_t and loss L_t are data (<see cref="Step"/> reads them without a graph): the meta-gradient ignores
/// second derivatives through the learner's gradients, as the paper does (§3.2). It still flows through c_{t−1} into
/// c_t, through the gates (which read θ_{t−1}) and into c_0.
/// </para>
/// <para>Parameters, in order: lstm.weight_ih [80, 4], lstm.weight_hh [80, 20], lstm.bias [80], forget.weight [1, 22],
/// forget.bias [1], input.weight [1, 22], input.bias [1], c0 [P].</para>
/// </summary>
public sealed class MetaLearnerLstm : nn.Module
{
    /// <summary>The first layer's units (the authors' nHidden).</summary>
    public const int Hidden = 20;
    /// <summary>Per coordinate: the loss's two features and the gradient's two.</summary>
    public const int Inputs = 4;
    /// <summary>LogAndSign's k (Andrychowicz et al.'s p; lstm-helper.lua's P = 10).</summary>
    public const double PreprocessingK = 10;

    /// <summary>The learner whose parameters the cell state holds (its own parameters are not trained: c0 replaces them).</summary>
    public nn.Module Learner { get; }
    public ParameterLayout Layout { get; }

    /// <summary>A meta-learner for `learner` (which it then owns and disposes), whose current parameters become c_0.</summary>
    public MetaLearnerLstm(nn.Module learner, Generator? generator = null, ScalarType? dtype = null)
    {
        Learner = learner;
        Layout = new ParameterLayout(learner);
        var type = dtype ?? learner.parameters()[0].dtype;
        RegisterParameter("lstm.weight_ih", Uniform([4 * Hidden, Inputs], -0.01, 0.01, generator, type));
        RegisterParameter("lstm.weight_hh", Uniform([4 * Hidden, Hidden], -0.01, 0.01, generator, type));
        RegisterParameter("lstm.bias", Uniform([4 * Hidden], -0.01, 0.01, generator, type));
        RegisterParameter("forget.weight", Uniform([1, Hidden + 2], -0.01, 0.01, generator, type));
        RegisterParameter("forget.bias", Uniform([1], 4, 5, generator, type));
        RegisterParameter("input.weight", Uniform([1, Hidden + 2], -0.01, 0.01, generator, type));
        RegisterParameter("input.bias", Uniform([1], -5, -4, generator, type));
        using (no_grad())
        using (var flat = Layout.Flatten(learner.parameters()))
            RegisterParameter("c0", flat.to(type).clone());
    }

    private static Tensor Uniform(long[] shape, double low, double high, Generator? generator, ScalarType dtype)
    {
        var t = empty(shape, dtype);
        nn.init.uniform_(t, low, high, generator);
        return t;
    }

    /// <summary>c_0 = θ_0: the learned initial parameters of the learner, [P].</summary>
    public Tensor InitialParameters => parameters()[7];

    /// <summary>The state before the first update: θ_0 = c_0, gates zero, no first-layer state.</summary>
    public MetaLearnerState Start(IReadOnlyList<Tensor>? p = null)
    {
        p ??= parameters();
        var theta = p[7];
        return new MetaLearnerState(theta, null, null, zeros([1, Layout.Count], theta.dtype), zeros([1, Layout.Count], theta.dtype), 0);
    }

    /// <summary>
    /// The cell-state update c_t = f_t ⊙ c_{t−1} + i_t ⊙ (−∇_t): with f = 1 and i = α, one step of gradient descent.
    /// </summary>
    public static Tensor Update(Tensor previous, Tensor gradient, Tensor forget, Tensor input) => forget * previous - input * gradient;

    /// <summary>
    /// One update of the learner's parameters from the loss L_t [] and gradient ∇_t [P] at θ_{t−1} (both read as data).
    /// With `p`, the meta-learner's parameters are those (functional call, as <see cref="nn.Module.forward(Tensor, IReadOnlyList{Tensor})"/>).
    /// </summary>
    public MetaLearnerState Step(MetaLearnerState state, Tensor loss, Tensor gradient, IReadOnlyList<Tensor>? p = null)
    {
        p ??= parameters();
        var count = Layout.Count;
        if (gradient.dim() != 1 || gradient.size(0) != count) throw new ArgumentException($"MetaLearnerLstm.Step: the gradient must be [{count}], got [{string.Join(", ", gradient.shape)}].", nameof(gradient));
        if (loss.numel() != 1) throw new ArgumentException($"MetaLearnerLstm.Step: the loss must be one number, got [{string.Join(", ", loss.shape)}].", nameof(loss));
        using var scope = NewDisposeScope();
        var g = gradient.detach();
        // Per coordinate (columns): the loss's features (the same for all) and the gradient's: x [4, P].
        Tensor x;
        using (no_grad())
        {
            var lossFeatures = LogAndSign.Apply(loss.detach().reshape(1), PreprocessingK).t().to(g.dtype);   // [2, 1]
            x = cat([lossFeatures.expand(2, count), LogAndSign.Apply(g, PreprocessingK).t()], 0);
        }
        var bias = p[2].unsqueeze(1);
        var (h, c) = state.Hidden is null
            ? CoordinateLstm.First(p[0], bias, x)
            : CoordinateLstm.Step(cat([p[0], p[1]], 1), bias, x, state.Hidden, state.Cell!);
        var theta = state.Parameters.unsqueeze(0);                                          // [1, P]
        var forget = p[4].unsqueeze(1).addmm(p[3], cat([h, theta, state.Forget], 0)).sigmoid();
        var input = p[6].unsqueeze(1).addmm(p[5], cat([h, theta, state.Input], 0)).sigmoid();
        var next = Update(state.Parameters, g, forget.squeeze(0), input.squeeze(0));
        return new MetaLearnerState(next, h, c, forget, input, state.Steps + 1).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the meta-learner's parameters and the learner it owns.</summary>
    public override void Dispose()
    {
        Learner.Dispose();
        base.Dispose();
    }

    /// <summary>The learner at the learned initial parameters c_0 (the meta-learner as a model before any update).</summary>
    protected override Tensor Forward(Tensor x, IReadOnlyList<Tensor> p) => Learner.forward(x, Layout.Unflatten(p[7]));
}
