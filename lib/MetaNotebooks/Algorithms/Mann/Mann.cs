using MetaNotebooks.Torch;
using static MetaNotebooks.Torch.torch;

namespace MetaNotebooks.Algorithms.Mann;

/// <summary>
/// The memory's addressing over one batch of episodes, step by step: each head's read weights [B, T, H, N], write weights
/// [B, T, H, N] and the usage [B, T, N] after each step (detached). What the chapter's heat maps draw.
/// </summary>
public sealed record MannTrace(Tensor ReadWeights, Tensor WriteWeights, Tensor Usage) : IDisposable
{
    public void Dispose()
    {
        ReadWeights.Dispose();
        WriteWeights.Dispose();
        Usage.Dispose();
    }
}

/// <summary>
/// The memory-augmented neural network of Santoro et al. (ICML 2016): an LSTM controller with an external memory read by
/// content and written by Least Recently Used Access (<see cref="LruaMemory"/>). At each step t:
/// <list type="number">
/// <item>the controller reads (x_t, y_{t−1}) and the previous step's reads r_{t−1} (as an NTM's controller does):
/// (h_t, c_t) = LSTM([x_t, y_{t−1}, r_{t−1}], (h_{t−1}, c_{t−1}));</item>
/// <item>a linear layer on h_t gives each head h its key k_t(h) = tanh(·), add vector a_t(h) = tanh(·) and write gate α_t(h);</item>
/// <item>the memory writes and reads (<see cref="LruaMemory.Step"/>), giving r_t;</item>
/// <item>the output layer reads [h_t, r_t]: logits_t = W_o [h_t, r_t] + b_o (softmax in the loss).</item>
/// </list>
/// Batched over episodes: every tensor has the episodes first, and the memory of each episode starts empty.
/// </summary>
public sealed class Mann : SequenceLearner
{
    public Mann(MannOptions? options = null, ScalarType? dtype = null) : base(options ?? new MannOptions())
    {
        var o = Options;
        using var generator = new Generator(unchecked((ulong)o.Seed * 104_729UL + 3UL));
        RegisterModule("controller", new nn.LSTMCell(o.InputSize + o.Classes + o.Heads * o.Width, o.Hidden, dtype, generator));
        RegisterModule("heads", new nn.Linear(o.Hidden, o.Heads * (2 * o.Width + 1), dtype: dtype, generator: generator));
        RegisterModule("output", new nn.Linear(o.Hidden + o.Heads * o.Width, o.Classes, dtype: dtype, generator: generator));
    }

    public override string Name => "MANN";

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p) => Run(input, p, trace: false).Logits;

    /// <summary>Logits [B, T, classes] and, when asked, the addressing of every step (<see cref="MannTrace"/>).</summary>
    public (Tensor Logits, MannTrace? Trace) Run(Tensor input, bool trace = false) => Run(input, parameters(), trace);

    private (Tensor Logits, MannTrace? Trace) Run(Tensor input, IReadOnlyList<Tensor> p, bool trace)
    {
        CheckInput(input);
        var o = Options;
        using var scope = NewDisposeScope();
        var (batch, steps) = (input.size(0), input.size(1));
        var h = zeros([batch, o.Hidden], input.dtype);
        var c = zeros([batch, o.Hidden], input.dtype);
        var state = LruaMemory.Initial(batch, o.Slots, o.Width, o.Heads, input.dtype);
        var reads = zeros([batch, o.Heads * o.Width], input.dtype);
        var outputs = new List<Tensor>();
        List<Tensor> readWeights = [], writeWeights = [], usage = [];
        long[] sizes = [o.Heads * o.Width, o.Heads * o.Width, o.Heads];
        for (var t = 0; t < steps; t++)
        {
            (h, c) = nn.functional.lstm_cell(cat([input.select(1, t), reads], 1), (h, c), p[0], p[1], p[2], p[3]);
            var heads = nn.functional.linear(h, p[4], p[5]).split(sizes, 1);
            var keys = heads[0].tanh().view(batch, o.Heads, o.Width);
            var adds = heads[1].tanh().view(batch, o.Heads, o.Width);
            var step = LruaMemory.Step(state, keys, adds, heads[2], o.Gamma);
            state = step.State;
            reads = step.Reads.flatten(1);
            outputs.Add(cat([h, reads], 1));
            if (!trace) continue;
            readWeights.Add(state.ReadWeights.detach());
            writeWeights.Add(step.WriteWeights.detach());
            usage.Add(state.Usage.detach());
        }
        var logits = nn.functional.linear(stack(outputs, 1), p[6], p[7]).MoveToOuterDisposeScope();
        if (!trace) return (logits, null);
        var record = new MannTrace(stack(readWeights, 1).MoveToOuterDisposeScope(), stack(writeWeights, 1).MoveToOuterDisposeScope(), stack(usage, 1).MoveToOuterDisposeScope());
        return (logits, record);
    }
}

/// <summary>
/// Santoro et al.'s LSTM baseline: the same 200-unit LSTM on the same input (x_t, y_{t−1}), its output layer on h_t; no
/// memory. Whatever it learns within an episode must fit in its 200 cells, and each new class overwrites the same cells.
/// </summary>
public sealed class LstmBaseline : SequenceLearner
{
    public LstmBaseline(MannOptions? options = null, ScalarType? dtype = null) : base(options ?? new MannOptions())
    {
        var o = Options;
        using var generator = new Generator(unchecked((ulong)o.Seed * 104_729UL + 5UL));
        RegisterModule("controller", new nn.LSTMCell(o.InputSize + o.Classes, o.Hidden, dtype, generator));
        RegisterModule("output", new nn.Linear(o.Hidden, o.Classes, dtype: dtype, generator: generator));
    }

    public override string Name => "LSTM";

    protected override Tensor Forward(Tensor input, IReadOnlyList<Tensor> p)
    {
        CheckInput(input);
        using var scope = NewDisposeScope();
        var (batch, steps) = (input.size(0), input.size(1));
        var h = zeros([batch, Options.Hidden], input.dtype);
        var c = zeros([batch, Options.Hidden], input.dtype);
        var outputs = new List<Tensor>();
        for (var t = 0; t < steps; t++)
        {
            (h, c) = nn.functional.lstm_cell(input.select(1, t), (h, c), p[0], p[1], p[2], p[3]);
            outputs.Add(h);
        }
        return nn.functional.linear(stack(outputs, 1), p[4], p[5]).MoveToOuterDisposeScope();
    }
}
