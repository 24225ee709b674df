namespace MetaNotebooks.Algorithms.Mann;

/// <summary>
/// Sizes of the memory-augmented network and its LSTM baseline (Santoro et al. 2016). The paper confirms the LSTM
/// controller of 200 units and the one-hot output of one unit per class; the memory of 128 slots × 40, 4 read heads and
/// γ = 0.95 are the public reimplementations' values (<c>MANNCell(lstm_size=200, memory_size=128, memory_dim=40,
/// nb_reads=4, gamma=0.95)</c>), not confirmed as the paper's.
/// </summary>
public sealed record MannOptions
{
    /// <summary>Adam's default step size: the reimplementations' choice (the paper's RMSProp 1e−4 is unconfirmed, and the binding has Adam).</summary>
    public const double LearningRate = 1e-3;
    /// <summary>Global gradient-norm clip before every step: a recurrent net over 50 steps can have rare large gradients.</summary>
    public const double ClipGradNorm = 10;

    /// <summary>Classes per episode: the one-hot label width of the input and the output layer's size.</summary>
    public int Classes { get; init; } = 5;
    /// <summary>Pixels of one flattened image (20×20 in the paper).</summary>
    public int InputSize { get; init; } = 400;
    /// <summary>LSTM units of the controller (and of the baseline).</summary>
    public int Hidden { get; init; } = 200;
    /// <summary>N: memory slots.</summary>
    public int Slots { get; init; } = 128;
    /// <summary>D: width of a memory row, a key and an add vector.</summary>
    public int Width { get; init; } = 40;
    /// <summary>H: read heads (each with its own key, add vector and write gate); also n of the least-used weights.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>γ: the decay of the usage weights.</summary>
    public double Gamma { get; init; } = 0.95;
    /// <summary>Seeds the initialisation.</summary>
    public long Seed { get; init; } = 1;

    public void Validate()
    {
        if (Classes < 2) throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "an episode needs at least 2 classes.");
        if (InputSize < 1 || Hidden < 1 || Slots < 1 || Width < 1 || Heads < 1)
            throw new ArgumentException($"input size, hidden units, slots, width and heads must be ≥ 1; got {InputSize}, {Hidden}, {Slots}, {Width}, {Heads}.");
        if (Heads > Slots) throw new ArgumentException($"{Heads} heads need at least {Heads} least-used slots; the memory has {Slots}.");
        if (!(Gamma >= 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "γ must be in [0, 1].");
    }

    /// <summary>One line for settings strings and figure captions.</summary>
    public string Describe(bool memory) => memory
        ? $"LSTM {Hidden} controller, memory {Slots}×{Width}, {Heads} read heads, γ {Gamma}"
        : $"LSTM {Hidden}";
}
