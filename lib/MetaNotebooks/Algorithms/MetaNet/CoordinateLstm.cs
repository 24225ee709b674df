using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.MetaNet;

/// <summary>
/// The task-level fast-weight generator d (docs/metanet.md §2.5): an LSTM(2, 20) followed by Linear 20→1, run
/// coordinate-wise (the P gradient coordinates form the LSTM's batch, each with its own state) over a short sequence of
/// preprocessed gradients, one per step; only the last step's output is used. The state starts at zero every episode
/// (the authors' <c>reset_state()</c>).
/// <para>
/// As Chainer's L.LSTM (spec §2.5, §9.17), not libtorch's LSTM: one bias vector (zero, the forget gate included)
/// and weights N(0, 1/fan_in) for the input (fan_in 2) and recurrent (fan_in 20) matrices. Chainer orders the gates
/// (a, i, f, o) and interleaves them; with this symmetric initialisation that only permutes rows, so libtorch's cell
/// (i, f, g, o) computes the same function family with the same initial distribution.
/// </para>
/// </summary>
public sealed class CoordinateLstm : nn.Module
{
    public const int Hidden = 20;

    public CoordinateLstm(Generator? generator = null, ScalarType? dtype = null)
    {
        RegisterParameter("lstm.weight_ih", Normal([4 * Hidden, 2], 2, generator, dtype));
        RegisterParameter("lstm.weight_hh", Normal([4 * Hidden, Hidden], Hidden, generator, dtype));
        RegisterParameter("lstm.bias", zeros([4 * Hidden], dtype));
        RegisterParameter("out.weight", Normal([1, Hidden], Hidden, generator, dtype));
        RegisterParameter("out.bias", zeros([1], dtype));
    }

    private static Tensor Normal(long[] shape, long fanIn, Generator? generator, ScalarType? dtype)
    {
        var t = empty(shape, dtype);
        nn.init.normal_(t, 0, Math.Sqrt(1.0 / fanIn), generator);
        return t;
    }

    /// <summary>The steps' preprocessed gradients [T, P, 2] → the last step's output [P].</summary>
    public Tensor Generate(Tensor steps) => forward(steps);

    protected override Tensor Forward(Tensor steps, IReadOnlyList<Tensor> p)
    {
        if (steps.dim() != 3 || steps.size(2) != 2) throw new ArgumentException($"CoordinateLstm: steps must be [T, P, 2], got [{string.Join(", ", steps.shape)}].");
        using var scope = NewDisposeScope();
        // Coordinates run along the columns: gates [80, P], state [20, P]. Each gate is then a contiguous block of rows
        // and every element-wise op runs over P contiguous numbers; with coordinates as rows ([P, 80], as lstm_cell) the
        // gates are [P, 20] slices with a stride of 80, and d forward and backward took ~1.6× as long (`mn bench
        // metanet.episode`). Same function: z = [U V]·[x; h] + b, gates in libtorch's order (i, f, g, o).
        var bias = p[2].unsqueeze(1);
        var (h, c) = First(p[0], bias, steps[0].t());
        var weights = cat([p[0], p[1]], 1);                                   // [80, 2 + 20]
        for (var t = 1; t < steps.size(0); t++) (h, c) = Step(weights, bias, steps[t].t(), h, c);
        return p[4].unsqueeze(1).addmm(p[3], h).squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One step of a coordinate-wise LSTM cell from a zero state (Chainer's LSTM has no recurrent term then):
    /// z = U·x + b, c = σ(i)·tanh(g), h = σ(o)·tanh(c). Coordinates along the columns: x [I, P], U [4H, I], bias [4H, 1]
    /// → h, c [H, P]. Shared with the meta-learner LSTM's first layer (Algorithms/MetaLearner).
    /// </summary>
    public static (Tensor H, Tensor C) First(Tensor inputWeights, Tensor bias, Tensor x)
    {
        var gates = bias.addmm(inputWeights, x).chunk(4, 0);
        var c = gates[0].sigmoid() * gates[2].tanh();
        return (gates[3].sigmoid() * c.tanh(), c);
    }

    /// <summary>
    /// One step of a coordinate-wise LSTM cell: z = [U V]·[x; h] + b, gates in libtorch's order (i, f, g, o),
    /// c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). Coordinates along the columns: weights [U V] [4H, I + H], bias
    /// [4H, 1], x [I, P], h and c [H, P]. Every coordinate has its own state and all share the weights. Shared with the
    /// meta-learner LSTM's first layer (Algorithms/MetaLearner).
    /// </summary>
    public static (Tensor H, Tensor C) Step(Tensor weights, Tensor bias, Tensor x, Tensor h, Tensor c)
    {
        var gates = bias.addmm(weights, cat([x, h], 0)).chunk(4, 0);
        var next = gates[1].sigmoid() * c + gates[0].sigmoid() * gates[2].tanh();
        return (gates[3].sigmoid() * next.tanh(), next);
    }
}
